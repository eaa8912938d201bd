"""internal: the duty roster (contacts), incident roles, the private working log, service
dependencies on shared platforms, drills, triage outcomes, shared incidents, the war room, and
internal messages (with their acknowledgement) in the outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:02:56.263624

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('is_backup', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_contacts_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('agency_id', 'position', 'email', name=op.f('uq_contacts_agency_id'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_agency_id'), ['agency_id'], unique=False)

    op.create_table('incident_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_incident_notes_author_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_notes_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_notes'))
    )
    with op.batch_alter_table('incident_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_notes_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_notes_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_roles',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_roles_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_incident_roles_user_id_users')),
    sa.PrimaryKeyConstraint('incident_id', 'role', name=op.f('pk_incident_roles'))
    )
    op.create_table('service_dependencies',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('depends_on_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['depends_on_id'], ['services.id'], name=op.f('fk_service_dependencies_depends_on_id_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_service_dependencies_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'depends_on_id', name=op.f('pk_service_dependencies'))
    )
    with op.batch_alter_table('service_dependencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_dependencies_depends_on_id'), ['depends_on_id'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_exercise', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('triage', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_shared', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('coordinator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('war_room_opened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('war_room_closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bridge_url', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('paged', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_incidents_duplicate_of_id_incidents'), 'incidents', ['duplicate_of_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_incidents_coordinator_id_users'), 'users', ['coordinator_id'], ['id'])

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_incident_id'), ['incident_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_incident_id_incidents'), 'incidents', ['incident_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_incident_id_incidents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_incident_id'))
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('incident_id')
        batch_op.drop_column('address')

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_coordinator_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_incidents_duplicate_of_id_incidents'), type_='foreignkey')
        batch_op.drop_column('paged')
        batch_op.drop_column('bridge_url')
        batch_op.drop_column('war_room_closed_at')
        batch_op.drop_column('war_room_opened_at')
        batch_op.drop_column('coordinator_id')
        batch_op.drop_column('is_shared')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('triage')
        batch_op.drop_column('is_exercise')

    with op.batch_alter_table('service_dependencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_dependencies_depends_on_id'))

    op.drop_table('service_dependencies')
    op.drop_table('incident_roles')
    with op.batch_alter_table('incident_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_notes_incident_id'))
        batch_op.drop_index(batch_op.f('ix_incident_notes_at'))

    op.drop_table('incident_notes')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_agency_id'))

    op.drop_table('contacts')
