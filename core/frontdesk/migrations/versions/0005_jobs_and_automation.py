"""jobs, automation, notifications and escalation levels

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The job ledger and periodic claims; automation rules, their firings and log; macros; in-app
notifications and their templates; escalation levels between groups; the reply timestamps that
time rules measure from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontdesk.db

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "automation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("match", sa.String(length=3), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_automation_rules_name")),
    )
    with op.batch_alter_table("automation_rules", schema=None) as batch_op:
        batch_op.create_index("ix_automation_rules_kind", ["kind", "position"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("queued_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("run_after", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("lease_until", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_state", ["state", "run_after"], unique=False)

    op.create_table(
        "notification_templates",
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_notification_templates")),
    )
    op.create_table(
        "periodic_runs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slot", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("lease_until", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_runs")),
    )
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_macros_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.create_index("ix_macros_owner", ["owner_id", "position"], unique=False)

    op.create_table(
        "automation_firings",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("anchor", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("fired_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name=op.f("fk_automation_firings_rule_id_automation_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_automation_firings_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rule_id", "ticket_id", "anchor", name=op.f("pk_automation_firings")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_notifications_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user", ["user_id", "read_at", "id"], unique=False)

    op.create_table(
        "automation_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=100), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_automation_log_event_id_events"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_automation_log_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_automation_log_event_id")),
    )
    with op.batch_alter_table("automation_log", schema=None) as batch_op:
        batch_op.create_index("ix_automation_log_ticket", ["ticket_id", "id"], unique=False)

    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalates_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_groups_escalates_to_id_groups"), "groups", ["escalates_to_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_assigned_at", frontdesk.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_requester_reply_at", frontdesk.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_agent_reply_at", frontdesk.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_tickets_category_entered", ["status_category", "status_changed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_category_entered")
        batch_op.drop_column("last_agent_reply_at")
        batch_op.drop_column("last_requester_reply_at")

    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")

    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_groups_escalates_to_id_groups"), type_="foreignkey")
        batch_op.drop_column("escalates_to_id")

    with op.batch_alter_table("automation_log", schema=None) as batch_op:
        batch_op.drop_index("ix_automation_log_ticket")

    op.drop_table("automation_log")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user")

    op.drop_table("notifications")
    op.drop_table("automation_firings")
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.drop_index("ix_macros_owner")

    op.drop_table("macros")
    op.drop_table("periodic_runs")
    op.drop_table("notification_templates")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_state")

    op.drop_table("jobs")
    with op.batch_alter_table("automation_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_automation_rules_kind")

    op.drop_table("automation_rules")
