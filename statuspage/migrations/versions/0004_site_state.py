"""site_state: the version of the public site, for the page cache and the static export

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:40:00

"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    site_state = op.create_table(
        "site_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_state")),
    )
    op.bulk_insert(site_state, [{"id": 1, "version": 1, "changed_at": datetime.now(timezone.utc)}])


def downgrade():
    op.drop_table("site_state")
