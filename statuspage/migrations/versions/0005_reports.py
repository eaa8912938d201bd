"""reports: post-incident reports with their published revisions and preventive actions, monthly
reports, a service availability target, indexes for a month's incidents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:21:38.270170

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "monthly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("commentary", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_monthly_reports_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name=op.f("fk_monthly_reports_published_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_reports")),
        sa.UniqueConstraint("scope", "month", name=op.f("uq_monthly_reports_scope")),
    )
    with op.batch_alter_table("monthly_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monthly_reports_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monthly_reports_month"), ["month"], unique=False)

    op.create_table(
        "post_incident_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("timeline", sa.Text(), nullable=False),
        sa.Column("people_affected", sa.Text(), nullable=False),
        sa.Column("duration", sa.Text(), nullable=False),
        sa.Column("transactions_lost", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("root_cause_category", sa.String(length=30), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("apology", sa.Text(), nullable=False),
        sa.Column("correction_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["users.id"],
            name=op.f("fk_post_incident_reports_approved_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_post_incident_reports_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_post_incident_reports_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_incident_reports")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_post_incident_reports_incident_id")),
    )
    op.create_table(
        "preventive_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["post_incident_reports.id"],
            name=op.f("fk_preventive_actions_report_id_post_incident_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preventive_actions")),
    )
    with op.batch_alter_table("preventive_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preventive_actions_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_preventive_actions_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "report_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("root_cause_category", sa.String(length=30), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("correction_note", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_report_revisions_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_report_revisions_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_report_revisions_published_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["post_incident_reports.id"],
            name=op.f("fk_report_revisions_report_id_post_incident_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_revisions")),
        sa.UniqueConstraint("report_id", "number", name=op.f("uq_report_revisions_report_id")),
    )
    with op.batch_alter_table("report_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_revisions_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_revisions_published_at"), ["published_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_revisions_report_id"), ["report_id"], unique=False
        )

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incidents_resolved_at_detected_at", ["resolved_at", "detected_at"], unique=False
        )
        batch_op.create_index(
            "ix_incidents_agency_id_detected_at", ["agency_id", "detected_at"], unique=False
        )

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("availability_target", sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("availability_target")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_agency_id_detected_at")
        batch_op.drop_index("ix_incidents_resolved_at_detected_at")

    with op.batch_alter_table("report_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_revisions_report_id"))
        batch_op.drop_index(batch_op.f("ix_report_revisions_published_at"))
        batch_op.drop_index(batch_op.f("ix_report_revisions_incident_id"))

    op.drop_table("report_revisions")
    with op.batch_alter_table("preventive_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preventive_actions_report_id"))
        batch_op.drop_index(batch_op.f("ix_preventive_actions_due_on"))

    op.drop_table("preventive_actions")
    op.drop_table("post_incident_reports")
    with op.batch_alter_table("monthly_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monthly_reports_month"))
        batch_op.drop_index(batch_op.f("ix_monthly_reports_agency_id"))

    op.drop_table("monthly_reports")
