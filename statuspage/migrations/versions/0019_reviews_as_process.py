"""reviews as a process: the analysis, the meeting, requests for changes, actions' category,
priority and effectiveness, numbers for the figures, and when an incident was first assigned

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 14:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
    # The first assignment the audit log remembers.
    op.execute(
        "UPDATE incidents SET assigned_at = (SELECT MIN(audit_log.at) FROM audit_log "
        "WHERE audit_log.incident_id = incidents.id AND audit_log.action = 'assigned') "
        "WHERE assignee_id IS NOT NULL"
    )

    with op.batch_alter_table('post_incident_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contributing_factors', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('went_well', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('went_wrong', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('five_whys', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('fishbone', sa.Text(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('contributors', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('people_affected_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('downtime_cost', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('changes_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('changes_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('changes_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('meeting_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('meeting_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('meeting_place', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('facilitator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('meeting_invitees', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('meeting_invited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('meeting_sequence', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_post_incident_reports_changes_requested_by_id_users'), 'users', ['changes_requested_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_post_incident_reports_facilitator_id_users'), 'users', ['facilitator_id'], ['id'])

    with op.batch_alter_table('preventive_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('impact', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('effort', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('effectiveness', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('effectiveness_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('effectiveness_checked_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_preventive_actions_completed_on'), ['completed_on'], unique=False)

    with op.batch_alter_table('report_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('people_affected_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('downtime_cost', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('report_revisions', schema=None) as batch_op:
        batch_op.drop_column('downtime_cost')
        batch_op.drop_column('people_affected_count')

    with op.batch_alter_table('preventive_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preventive_actions_completed_on'))
        for name in ('effectiveness_checked_on', 'effectiveness_note', 'effectiveness',
                     'completed_on', 'effort', 'impact', 'category'):
            batch_op.drop_column(name)

    with op.batch_alter_table('post_incident_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_post_incident_reports_facilitator_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_post_incident_reports_changes_requested_by_id_users'), type_='foreignkey')
        for name in ('meeting_sequence', 'meeting_invited_at', 'meeting_invitees', 'facilitator_id',
                     'meeting_place', 'meeting_minutes', 'meeting_at', 'changes_note',
                     'changes_requested_by_id', 'changes_requested_at', 'downtime_cost',
                     'people_affected_count', 'contributors', 'fishbone', 'five_whys',
                     'went_wrong', 'went_well', 'contributing_factors'):
            batch_op.drop_column(name)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('assigned_at')
