"""held_posts: What a signed-out person was sending, kept until they sign in again

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('held_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_held_posts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_posts')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_held_posts_token_hash'))
    )
    with op.batch_alter_table('held_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_posts_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('held_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_posts_user_id'))
    op.drop_table('held_posts')
