"""Mail the desk sends: agents' replies and notifications, written to the outbox, then sent by a job.

Every mail is first an :class:`OutboundMessage` row written in the transaction that decided to
send it, so nothing is lost when the SMTP server is down: the ``email.send`` job sends it, retried
with backoff; after the last attempt the row is ``failed`` (with the error) until an admin retries.

Threading: each mail gets a signed per-ticket ``Message-ID``, ``In-Reply-To``/``References``
chaining the ticket's earlier messages in both directions, a signed ``Reply-To`` and ``[#number]``
in the subject, so replies find their ticket in every mail client.

Loop safety (RFC 3834): automatic mail carries ``Auto-Submitted: auto-generated``, is never sent in
answer to a message the inbound side classified as automatic (auto-reply, bounce, list, our own
loop), never to the desk's own addresses, and at most ``auto_mail_per_hour``/``auto_mail_per_day``
times to one address; a mail held back is kept with state ``suppressed`` and the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses, make_msgid
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from frontdesk.db import utcnow
from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import Comment, Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.services.plugins import get_settings
from frontdesk.text import html_to_text, text_to_html
from frontdesk_email import smtp, tokens
from frontdesk_email.models import InboundMessage, Mailbox, OutboundMessage, ThreadReference
from frontdesk_email.pipeline import load_raw
from frontdesk_email.thread import digest

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.notifications import Notice
    from frontdesk.uow import UnitOfWork

log = logging.getLogger("frontdesk.email.outbound")

SEND_JOB = "email.send"
SEND_ATTEMPTS = 5
# Comments written by the inbound pipeline carry one of these channels; they are never mailed back.
MAIL_CHANNELS = frozenset({"email", "mail"})
AUTOMATION_CHANNEL = "automation"  # replies written by rules: automatic mail
# Notification kinds this plugin sends as the reply itself (see :func:`deliver_notice`).
MAILED_AS_REPLIES = frozenset({"ticket.agent_replied"})
REPEAT_WINDOW = timedelta(minutes=10)
MAX_REFERENCES = 20  # the first message of the ticket and the newest ones; keeps headers short
FALLBACK_DOMAIN = "frontdesk.invalid"
STATES = ("queued", "sent", "failed", "suppressed")
NO_SENDER = "no mailbox and no from_address setting: the desk has no address to send from"


@dataclass(frozen=True)
class Sender:
    """Who the desk's mail is from: an address, a display name, and the mailbox behind it (if any)."""

    address: str
    name: str
    mailbox_id: int | None

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or FALLBACK_DOMAIN


def settings(uow: UnitOfWork) -> dict[str, Any]:
    """The email plugin's settings in force."""
    return get_settings(uow, "email")


def own_addresses(uow: UnitOfWork) -> set[str]:
    """The desk's own addresses (every mailbox and the configured sender), lower case."""
    found = {address.lower() for address in uow.session.scalars(select(Mailbox.address))}
    if sender := settings(uow).get("from_address"):
        found.add(sender.lower())
    return found


def sender_for(uow: UnitOfWork, ticket: Ticket | None) -> Sender | None:
    """The address mail about ``ticket`` comes from: the mailbox it arrived at, its group's, any, or the setting."""
    mailbox = None
    if ticket is not None:
        mailbox = uow.session.scalar(
            select(Mailbox)
            .join(InboundMessage, InboundMessage.mailbox_id == Mailbox.id)
            .where(InboundMessage.ticket_id == ticket.id)
            .order_by(InboundMessage.id)
            .limit(1)
        )
        if mailbox is None and ticket.group_id is not None:
            mailbox = uow.session.scalar(
                select(Mailbox).where(Mailbox.group_id == ticket.group_id).order_by(Mailbox.id).limit(1)
            )
    if mailbox is None:
        mailbox = uow.session.scalar(select(Mailbox).order_by(Mailbox.paused, Mailbox.id).limit(1))
    if mailbox is not None:
        return Sender(mailbox.address, mailbox.name, mailbox.id)
    configured = settings(uow).get("from_address")
    return Sender(configured, "", None) if configured else None


def _sender_of_row(uow: UnitOfWork, row: OutboundMessage) -> Sender:
    mailbox = uow.session.get(Mailbox, row.mailbox_id) if row.mailbox_id else None
    if mailbox is not None:
        return Sender(mailbox.address, mailbox.name, mailbox.id)
    ticket = uow.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    sender = sender_for(uow, ticket)
    if sender is None:
        raise ValidationError({"from_address": [NO_SENDER]})
    return sender


# Queueing


def queue_reply(uow: UnitOfWork, comment_id: int) -> OutboundMessage | None:
    """Queue an agent's public reply as mail to the requester (To) and the CCs (Cc); idempotent per comment.

    A reply a rule wrote (no author, or the automation channel) is automatic mail: it carries
    ``Auto-Submitted`` and the loop rules and caps apply to it.

    An agent who answers by mail (replying to a notification from their mail client) is mailed on
    too, to those of the requester and CCs their mail did not already reach.

    Returns None (and queues nothing) for notes, other comments that came in by mail (whoever wrote
    them reached the people they meant to), and replies nobody can receive.
    """
    comment = uow.session.get(Comment, comment_id)
    if comment is None or not comment.public:
        return None
    inbound = uow.session.scalar(select(InboundMessage).where(InboundMessage.comment_id == comment.id).limit(1))
    if (inbound is not None or comment.channel in MAIL_CHANNELS) and not (comment.author and comment.author.is_staff):
        return None
    reached = _recipients(uow.desk, inbound) if inbound is not None else set()
    done = select(OutboundMessage.id).where(OutboundMessage.comment_id == comment.id, OutboundMessage.kind == "reply")
    if uow.session.scalar(done.limit(1)) is not None:
        return None  # delivered before (events arrive at least once)
    ticket = uow.session.get(Ticket, comment.ticket_id)
    if ticket is None:
        return None
    own = own_addresses(uow)
    author = comment.author_id
    readers = [
        u
        for u in [ticket.requester, *ticket.ccs]
        if u.active and u.id != author and u.email.lower() not in own | reached
    ]
    if not readers:
        return None
    subject = f"Re: {ticket.subject}"
    return _queue(
        uow,
        ticket,
        kind="reply",
        to=[readers[0].email],
        cc=[u.email for u in readers[1:]],
        subject=subject,
        body_text=html_to_text(comment.body),
        body_html=comment.body,
        automatic=_written_by_automation(comment),
        comment=comment,
    )


def _recipients(desk: Desk, inbound: InboundMessage) -> set[str]:
    """The addresses (lower case) an incoming mail was sent to: To and Cc of its stored original."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(load_raw(desk, inbound))
    found = getaddresses([str(value) for name in ("to", "cc") for value in headers.get_all(name, [])])
    return {address.lower() for _name, address in found if address}


def _written_by_automation(comment: Comment) -> bool:
    """Whether a reply was written by a rule (no person): then it is automatic mail, loop rules apply."""
    return comment.author_id is None or comment.channel == AUTOMATION_CHANNEL


def queue_notice(uow: UnitOfWork, notice: Notice) -> OutboundMessage | None:
    """Queue a rendered notification (automatic mail) for its one recipient; None when there is no address.

    Delivery jobs run at least once: the same notice queued again within ``REPEAT_WINDOW`` is the
    same delivery repeated (a worker lost after commit), so it is not queued twice.
    """
    if not notice.email:
        return None
    repeated = select(OutboundMessage.id).where(
        OutboundMessage.recipient == notice.email.lower(),
        OutboundMessage.kind == notice.kind,
        OutboundMessage.ticket_id.is_(None)
        if notice.ticket_id is None
        else OutboundMessage.ticket_id == notice.ticket_id,
        OutboundMessage.body_text == notice.body,
        OutboundMessage.created_at > utcnow() - REPEAT_WINDOW,
    )
    if uow.session.scalar(repeated.limit(1)) is not None:
        return None
    ticket = uow.session.get(Ticket, notice.ticket_id) if notice.ticket_id else None
    return _queue(
        uow,
        ticket,
        kind=notice.kind,
        to=[notice.email],
        cc=[],
        subject=notice.subject,
        body_text=notice.body,
        body_html=text_to_html(notice.body),
        automatic=True,
        comment=None,
    )


def _queue(
    uow: UnitOfWork,
    ticket: Ticket | None,
    *,
    kind: str,
    to: list[str],
    cc: list[str],
    subject: str,
    body_text: str,
    body_html: str | None,
    automatic: bool,
    comment: Comment | None,
) -> OutboundMessage:
    sender = sender_for(uow, ticket)
    key = tokens.threading_key(uow.desk.config.secret_key)
    domain = sender.domain if sender else FALLBACK_DOMAIN
    subject = " ".join(subject.split())  # one line: a header never carries a line break
    if ticket is not None:
        message_id = tokens.make_message_id(key, ticket.number, domain)
        if tokens.subject_number(subject) != ticket.number:
            subject = f"{subject} [#{ticket.number}]"
        in_reply_to, references = _thread(uow, ticket)
    else:
        message_id = make_msgid("fd", domain=domain)
        in_reply_to, references = None, None
    row = OutboundMessage(
        mailbox_id=sender.mailbox_id if sender else None,
        ticket_id=ticket.id if ticket else None,
        comment_id=comment.id if comment else None,
        kind=kind,
        automatic=automatic,
        recipient=to[0].lower(),
        to_addrs=to,
        cc_addrs=cc,
        subject=subject[:998],
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        body_text=body_text,
        body_html=body_html,
        state="queued",
        attempts=0,
        created_at=utcnow(),
    )
    reason = _hold_back(uow, row, ticket) if automatic else None
    if sender is None:
        row.state, row.last_error = "failed", NO_SENDER
    elif reason is not None:
        row.state, row.last_error = "suppressed", reason
    uow.session.add(row)
    uow.session.flush()
    if ticket is not None and row.state != "suppressed":
        uow.session.add(
            ThreadReference(message_id=message_id, digest=digest(message_id), ticket_id=ticket.id, direction="out")
        )
    if row.state == "queued":
        uow.enqueue(SEND_JOB, outbox_id=row.id)
    return row


def _thread(uow: UnitOfWork, ticket: Ticket) -> tuple[str | None, str | None]:
    """``In-Reply-To`` (the newest message received, else sent) and ``References`` of a new mail about ``ticket``."""
    rows = uow.session.execute(
        select(ThreadReference.message_id, ThreadReference.direction)
        .where(ThreadReference.ticket_id == ticket.id)
        .order_by(ThreadReference.id)
    ).all()
    if not rows:
        return None, None
    received = [message_id for message_id, direction in rows if direction == "in"]
    in_reply_to = received[-1] if received else rows[-1][0]
    ids = [message_id for message_id, _direction in rows]
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return in_reply_to, " ".join(ids)


def _hold_back(uow: UnitOfWork, row: OutboundMessage, ticket: Ticket | None) -> str | None:
    """Why this automatic mail must not go out (loop safety), or None."""
    if row.recipient in own_addresses(uow):
        return f"{row.recipient} is one of the desk's own addresses (mail loop)"
    if ticket is not None:
        answered = _unanswered_automatic_message(uow, ticket)
        if answered is not None:
            return f"the ticket's latest mail (#{answered[0]}) is {answered[1]}: automatic mail never answers it"
    limits = settings(uow)
    now = utcnow()
    for window, limit, setting in (
        (timedelta(hours=1), limits["auto_mail_per_hour"], "auto_mail_per_hour"),
        (timedelta(days=1), limits["auto_mail_per_day"], "auto_mail_per_day"),
    ):
        if _recent_automatic(uow, row.recipient, now - window) >= limit:
            return f"{setting} ({limit}) reached for {row.recipient}"
    return None


def _recent_automatic(uow: UnitOfWork, recipient: str, since: datetime) -> int:
    query = select(func.count(OutboundMessage.id)).where(
        OutboundMessage.recipient == recipient,
        OutboundMessage.created_at > since,
        OutboundMessage.automatic.is_(True),
        OutboundMessage.state != "suppressed",
    )
    return uow.session.scalar(query) or 0


def classification(decision: dict[str, Any] | None) -> str | None:
    """The kind of a message the inbound side said must never be answered automatically, or None.

    The pipeline stores its classification under ``decision["classification"]`` (kind, signals,
    ``suppress_autoreply``): auto-replies, bounces, list mail and the desk's own mail come back.
    """
    found = (decision or {}).get("classification")
    if isinstance(found, dict) and found.get("suppress_autoreply"):
        return str(found.get("kind") or "automatic")
    return None


def _unanswered_automatic_message(uow: UnitOfWork, ticket: Ticket) -> tuple[int, str] | None:
    """The ticket's newest inbound mail if it is automatic and no person answered the ticket since."""
    latest = uow.session.scalar(
        select(InboundMessage).where(InboundMessage.ticket_id == ticket.id).order_by(InboundMessage.id.desc()).limit(1)
    )
    if latest is None or (kind := classification(latest.decision)) is None:
        return None
    answered = select(Comment.id).where(
        Comment.ticket_id == ticket.id,
        Comment.created_at > latest.received_at,
        Comment.author_id.is_not(None),
        Comment.channel.not_in([*MAIL_CHANNELS, AUTOMATION_CHANNEL]),
    )
    return None if uow.session.scalar(answered.limit(1)) is not None else (latest.id, kind)


# Sending


def build(uow: UnitOfWork, row: OutboundMessage) -> EmailMessage:
    """The MIME message of an outbox row: threading headers, plain text always, HTML and attachments."""
    sender = _sender_of_row(uow, row)
    ticket = uow.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    message = EmailMessage()
    message["From"] = formataddr((sender.name, sender.address)) if sender.name else sender.address
    message["To"] = ", ".join(row.to_addrs)
    if row.cc_addrs:
        message["Cc"] = ", ".join(row.cc_addrs)
    if ticket is not None:
        key = tokens.threading_key(uow.desk.config.secret_key)
        message["Reply-To"] = tokens.reply_address(key, sender.address, ticket.number)
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
    if row.references:
        message["References"] = row.references
    if row.automatic:
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(f"<!doctype html><html><body>{row.body_html}</body></html>", subtype="html")
    comment = uow.session.get(Comment, row.comment_id) if row.comment_id else None
    for attachment in comment.attachments if comment else ():
        with uow.desk.storage.open(attachment.storage_key) as stream:
            data = stream.read()
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            data, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=attachment.filename
        )
    return message


def send_queued(desk: Desk, outbox_id: int) -> None:
    """The ``email.send`` job: send one queued outbox row; on failure record the error and raise (retried)."""
    error: Exception | None = None
    with desk.action(SYSTEM, source="email") as uow:
        row = uow.session.get(OutboundMessage, outbox_id)
        if row is None or row.state != "queued":
            return  # sent already (jobs run at least once) or suppressed
        row.attempts += 1
        try:
            url = smtp.server_url(settings(uow)["smtp_url"])
            message = build(uow, row)
            envelope = _sender_of_row(uow, row).address
        except Exception as exc:  # recorded on the row (committed), then raised for the job's retry
            _failed(row, exc)
            error = exc
        recipients = [*row.to_addrs, *row.cc_addrs]
    if error is not None:
        raise error
    try:
        smtp.send(smtp.SmtpServer.from_url(url), message, envelope, recipients)
    except Exception as exc:
        with desk.action(SYSTEM, source="email") as uow:
            row = uow.session.get(OutboundMessage, outbox_id)
            if row is not None:
                _failed(row, exc)
        raise
    with desk.action(SYSTEM, source="email") as uow:
        row = uow.session.get(OutboundMessage, outbox_id)
        if row is not None:
            row.state, row.sent_at, row.last_error = "sent", utcnow(), None


def _failed(row: OutboundMessage, exc: Exception) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= SEND_ATTEMPTS:
        row.state = "failed"
    log.warning("sending outbox #%d failed (attempt %d): %s", row.id, row.attempts, row.last_error)


def retry(uow: UnitOfWork, outbox_id: int) -> OutboundMessage:
    """Queue a failed mail again with a fresh set of attempts (admins: ``email.manage``)."""
    uow.require("email.manage")
    row = uow.session.get(OutboundMessage, outbox_id)
    if row is None:
        raise NotFound(f"no outgoing mail #{outbox_id}")
    if row.state != "failed":
        raise ValidationError({"state": [f"only failed mail can be retried; this one is {row.state}"]})
    row.state, row.attempts = "queued", 0
    uow.enqueue(SEND_JOB, outbox_id=row.id)
    uow.emit("email.outbox_retried", ticket_id=row.ticket_id, payload={"outbox_id": row.id})
    return row


def outbox(
    uow: UnitOfWork, *, state: str | None = None, before: int | None = None, limit: int = 50
) -> list[OutboundMessage]:
    """Outgoing mail, newest first, optionally of one state; keyset pagination with ``before`` (an id)."""
    uow.require("email.manage")
    query = select(OutboundMessage)
    if state is not None:
        query = query.where(OutboundMessage.state == state)
    if before is not None:
        query = query.where(OutboundMessage.id < before)
    return list(uow.session.scalars(query.order_by(OutboundMessage.id.desc()).limit(limit)))


def deliver_notice(desk: Desk, notice: Notice) -> None:
    """The notification channel's ``deliver``: put the notice in the outbox (the send job mails it).

    Notices that an agent replied (``ticket.agent_replied``) are not mailed: the reply itself goes
    out as a person's mail (threaded, with its attachments), and a second, automatic copy would
    only repeat it. They still reach the people in-app.
    """
    if notice.kind in MAILED_AS_REPLIES:
        return
    with desk.action(SYSTEM, source="email") as uow:
        queue_notice(uow, notice)
