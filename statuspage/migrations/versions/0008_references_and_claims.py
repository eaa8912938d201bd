"""references_and_claims: incident reference numbers from a per-day counter (no retry on a
collision), and a token on each outbox claim so only the claim that still owns a row sends it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:10:00.000000

"""
import re
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

REFERENCE = re.compile(r"^INC-(\d{4})-(\d{2})(\d{2})-(\d+)$")


def upgrade():
    counters = op.create_table('reference_counters',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_reference_counters'))
    )
    # Carry on from the highest reference already given out each day.
    highest: dict[date, int] = {}
    for (ref,) in op.get_bind().execute(sa.text("SELECT ref FROM incidents")):
        if match := REFERENCE.match(ref):
            year, month, day_of_month, number = (int(part) for part in match.groups())
            day = date(year, month, day_of_month)
            highest[day] = max(highest.get(day, 0), number)
    if highest:
        op.bulk_insert(counters, [{'day': day, 'last': last} for day, last in highest.items()])

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('claim_token')

    op.drop_table('reference_counters')
