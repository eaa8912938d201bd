"""sms: SMS subscribers (issue 15)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('everything', sa.Boolean(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restarted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('pending_choice', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_subscribers')),
    sa.UniqueConstraint('number', name=op.f('uq_sms_subscribers_number'))
    )
    with op.batch_alter_table('sms_subscribers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_subscribers_confirmed_at'), ['confirmed_at'], unique=False)

    op.create_table('sms_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sms_subscriber_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sms_scopes_agency_id_agencies')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_sms_scopes_service_id_services')),
    sa.ForeignKeyConstraint(['sms_subscriber_id'], ['sms_subscribers.id'], name=op.f('fk_sms_scopes_sms_subscriber_id_sms_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_scopes')),
    sa.UniqueConstraint('sms_subscriber_id', 'agency_id', 'service_id', name=op.f('uq_sms_scopes_sms_subscriber_id'))
    )
    with op.batch_alter_table('sms_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_scopes_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_scopes_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_scopes_sms_subscriber_id'), ['sms_subscriber_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sms_scopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_scopes_sms_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_sms_scopes_service_id'))
        batch_op.drop_index(batch_op.f('ix_sms_scopes_agency_id'))

    op.drop_table('sms_scopes')
    with op.batch_alter_table('sms_subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_subscribers_confirmed_at'))

    op.drop_table('sms_subscribers')
