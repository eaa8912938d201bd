"""subscription_changes: Subscribing in context: merged choices (issue 15)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subscription_additions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('everything', sa.Boolean(), nullable=False),
    sa.Column('agency_ids', sa.JSON(), nullable=False),
    sa.Column('service_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_subscription_additions_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_additions'))
    )
    with op.batch_alter_table('subscription_additions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_additions_subscriber_id'), ['subscriber_id'], unique=False)


def downgrade():
    with op.batch_alter_table('subscription_additions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_additions_subscriber_id'))
    op.drop_table('subscription_additions')
