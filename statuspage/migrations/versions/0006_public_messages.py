"""public messages: which updates citizens may read, the expected fix time, and the public clock

An update written while its incident was private stays private: `incident_updates.is_public`
is set for the updates published at or after the incident first went public.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident_updates") as batch:
        batch.add_column(
            sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("expected_resolution_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("public_clock_passed_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(
        """
        UPDATE incident_updates SET is_public = TRUE
        WHERE EXISTS (
            SELECT 1 FROM incidents
            WHERE incidents.id = incident_updates.incident_id
              AND incidents.first_public_at IS NOT NULL
              AND incident_updates.published_at >= incidents.first_public_at
        )
        """
    )


    # The built-in templates no longer say "$services is …" (wrong for "Tax payments"); an
    # administrator's edited text is left as it is.
    from statuspage.communications.defaults import PREVIOUS_BODIES, TEMPLATES

    new_bodies = {template["key"]: template["body"] for template in TEMPLATES}
    templates = sa.table("update_templates", sa.column("key"), sa.column("body"))
    for key, old in PREVIOUS_BODIES.items():
        op.execute(
            templates.update()
            .where(templates.c.key == key, templates.c.body == old)
            .values(body=new_bodies[key])
        )


def downgrade():
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("public_clock_passed_at")
    with op.batch_alter_table("incident_updates") as batch:
        batch.drop_column("expected_resolution_at")
        batch.drop_column("is_public")
