"""mailboxes, inbound messages, outbox, thread references

Revision ID: 0001
Revises:
Create Date: 2026-11-22 19:24:12.035565
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontdesk.db

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("email",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("imap_host", sa.String(length=255), nullable=True),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("imap_security", sa.String(length=10), nullable=False),
        sa.Column("imap_username", sa.String(length=320), nullable=True),
        sa.Column("imap_password", sa.String(length=500), nullable=True),
        sa.Column("imap_password_env", sa.String(length=100), nullable=True),
        sa.Column("imap_folder", sa.String(length=255), nullable=False),
        sa.Column("processed_folder", sa.String(length=255), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_polled_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_email_mailboxes_group_id_groups"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_email_mailboxes_address")),
        sa.UniqueConstraint("name", name=op.f("uq_email_mailboxes_name")),
    )
    op.create_table(
        "email_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_email_references_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_references")),
        sa.UniqueConstraint("digest", name=op.f("uq_email_references_digest")),
    )
    with op.batch_alter_table("email_references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_references_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "email_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("processed_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_email_messages_comment_id_comments"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["email_mailboxes.id"],
            name=op.f("fk_email_messages_mailbox_id_email_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_email_messages_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_email_messages_dedupe_key")),
    )
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_messages_comment_id"), ["comment_id"], unique=False)
        batch_op.create_index("ix_email_messages_status", ["status", "id"], unique=False)
        batch_op.create_index("ix_email_messages_ticket", ["ticket_id", "id"], unique=False)

    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("to_addrs", sa.JSON(), nullable=False),
        sa.Column("cc_addrs", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("in_reply_to", sa.String(length=998), nullable=True),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_email_outbox_comment_id_comments"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["email_mailboxes.id"],
            name=op.f("fk_email_outbox_mailbox_id_email_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_email_outbox_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_outbox_message_id")),
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_email_outbox_recipient", ["recipient", "created_at"], unique=False)
        batch_op.create_index("ix_email_outbox_state", ["state", "id"], unique=False)
        batch_op.create_index("ix_email_outbox_ticket", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_email_outbox_ticket")
        batch_op.drop_index("ix_email_outbox_state")
        batch_op.drop_index("ix_email_outbox_recipient")

    op.drop_table("email_outbox")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_email_messages_ticket")
        batch_op.drop_index("ix_email_messages_status")
        batch_op.drop_index(batch_op.f("ix_email_messages_comment_id"))

    op.drop_table("email_messages")
    with op.batch_alter_table("email_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_references_ticket_id"))

    op.drop_table("email_references")
    op.drop_table("email_mailboxes")
