"""alerts: Alertmanager alert groups and components following monitoring (issue 16)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

NEW_TEMPLATE = "partial_initial"


def upgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follows_monitoring', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('alert_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('group_key', sa.Text(), nullable=False),
    sa.Column('key_digest', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('suggested_priority', sa.Integer(), nullable=False),
    sa.Column('suggestion', sa.Text(), nullable=False),
    sa.Column('last_payload', sa.Text(), nullable=False),
    sa.Column('notifications', sa.Integer(), nullable=False),
    sa.Column('impacts_set', sa.Text(), nullable=False),
    sa.Column('first_received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('firing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_alert_groups_agency_id_agencies')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_alert_groups_incident_id_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_groups')),
    sa.UniqueConstraint('agency_id', 'key_digest', name=op.f('uq_alert_groups_agency_id'))
    )
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_groups_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_groups_incident_id'), ['incident_id'], unique=False)

    op.create_table('alert_group_services',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['alert_groups.id'], name=op.f('fk_alert_group_services_group_id_alert_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_alert_group_services_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'service_id', name=op.f('pk_alert_group_services'))
    )
    with op.batch_alter_table('alert_group_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_group_services_service_id'), ['service_id'], unique=False)

    # The first notice for a slower or partly working service (a draft from a warning alert
    # starts from it); a fresh database already has it from 0002, which seeds every template.
    from statuspage.communications.defaults import TEMPLATES

    columns = ["key", "name", "status", "body", "what_affected", "who_affected", "cause",
               "workaround", "help"]
    templates = sa.table("update_templates", *(sa.column(c, sa.Text) for c in columns))
    present = op.get_bind().execute(
        sa.select(templates.c.key).where(templates.c.key == NEW_TEMPLATE)
    ).first()
    if present is None:
        op.bulk_insert(templates, [t for t in TEMPLATES if t["key"] == NEW_TEMPLATE])


def downgrade():
    templates = sa.table("update_templates", sa.column("key", sa.Text))
    op.execute(templates.delete().where(templates.c.key == NEW_TEMPLATE))
    with op.batch_alter_table('alert_group_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_group_services_service_id'))

    op.drop_table('alert_group_services')
    with op.batch_alter_table('alert_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_groups_incident_id'))
        batch_op.drop_index(batch_op.f('ix_alert_groups_agency_id'))

    op.drop_table('alert_groups')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('follows_monitoring')
