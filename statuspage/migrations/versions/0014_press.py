"""press: Media statements and talking points (issue 15): statements drafted, approved by the
policy's approver and released on /press; their talking points in a table of their own (private)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('press_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('headline', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('chosen', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_press_statements_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_press_statements_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_press_statements_decided_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_press_statements_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_press_statements_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['press_statements.id'], name=op.f('fk_press_statements_supersedes_id_press_statements')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_press_statements_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_press_statements')),
    sa.UniqueConstraint('slug', name=op.f('uq_press_statements_slug'))
    )
    with op.batch_alter_table('press_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_press_statements_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_press_statements_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_press_statements_released_at'), ['released_at'], unique=False)

    op.create_table('press_talking_points',
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['press_statements.id'], name=op.f('fk_press_talking_points_statement_id_press_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('statement_id', name=op.f('pk_press_talking_points'))
    )


def downgrade():
    op.drop_table('press_talking_points')
    with op.batch_alter_table('press_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_press_statements_released_at'))
        batch_op.drop_index(batch_op.f('ix_press_statements_incident_id'))
        batch_op.drop_index(batch_op.f('ix_press_statements_agency_id'))

    op.drop_table('press_statements')
