"""administration: Administration: agencies and services edited on screen (issue 14)

Services gain a group (a heading the admin lists them under). Everything else the screens edit
already has a column; what changed, by whom, goes to the audit log.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('group_name', sa.String(length=100), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('group_name')
