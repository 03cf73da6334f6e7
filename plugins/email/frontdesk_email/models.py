"""The email channel's tables: mailboxes, every inbound message, the outbox and the thread index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base, UTCDateTime, utcnow


class Mailbox(Base):
    """A desk address: where its mail is fetched from (IMAP, optional) and which group gets its tickets."""

    __tablename__ = "email_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    imap_host: Mapped[str | None] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_security: Mapped[str] = mapped_column(String(10), default="tls")  # tls | starttls | none
    imap_username: Mapped[str | None] = mapped_column(String(320))
    # The password itself, or None when it comes from the environment variable named below.
    imap_password: Mapped[str | None] = mapped_column(String(500))
    imap_password_env: Mapped[str | None] = mapped_column(String(100))
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    # Where processed messages go on the server; None flags them \Seen and leaves them in place.
    processed_folder: Mapped[str | None] = mapped_column(String(255))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundMessage(Base):
    """One received message, recorded before it is processed, with what became of it and why.

    ``dedupe_key`` (SHA-256 of the Message-ID, or of the content when it has none) is unique, so the
    same message arriving twice (two mailboxes, a retry, a re-import) is processed once.
    ``decision`` holds the evidence the pipeline weighed (classification, threading evidence and
    score, policy applied) so the desk can answer "why is this here?".
    """

    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_status", "status", "id"),
        Index("ix_email_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("email_mailboxes.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))  # imap | pipe | import | smtp | webhook
    message_id: Mapped[str | None] = mapped_column(String(998))
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    raw_key: Mapped[str | None] = mapped_column(String(255))  # the raw bytes in attachment storage
    # received | processed | review | rejected | quarantined | failed
    status: Mapped[str] = mapped_column(String(20), default="received")
    outcome: Mapped[str | None] = mapped_column(String(20))  # created | appended | linked | discarded
    reason: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"), index=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboundMessage(Base):
    """A mail the desk sends, persisted before sending so a failure is retried and never lost."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        Index("ix_email_outbox_state", "state", "id"),
        Index("ix_email_outbox_recipient", "recipient", "created_at"),
        Index("ix_email_outbox_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("email_mailboxes.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(50))  # reply | notification kind (ticket.received, ...)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # sent with Auto-Submitted
    recipient: Mapped[str] = mapped_column(String(320))  # the main To address (caps count on it)
    to_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="queued")  # queued | sent | failed | suppressed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ThreadReference(Base):
    """A Message-ID the desk knows belongs to a ticket (mail it sent or received): threading evidence."""

    __tablename__ = "email_references"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of message_id, for the index
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
