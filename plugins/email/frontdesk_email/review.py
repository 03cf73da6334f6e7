"""The review queue and failed mail: what an agent with ``email.manage`` decides about held messages.

Messages from non-participants that name a ticket wait in review; an agent accepts them into a
ticket (the sender becomes a CC, so they may take part), opens a new ticket, or discards them.
Failed and quarantined messages can be processed again once the cause is fixed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import Comment, Ticket
from frontdesk.permissions import Actor
from frontdesk.services.tickets import get_ticket, person, update_ticket
from frontdesk.uow import UnitOfWork
from frontdesk_email import pipeline
from frontdesk_email.classify import PERSON, Classification
from frontdesk_email.models import InboundMessage, Mailbox
from frontdesk_email.parse import Limits, ParsedMessage, Quarantine, parse

PERMISSION = "email.manage"
REPROCESSABLE = (pipeline.FAILED, pipeline.QUARANTINED, pipeline.REVIEW)
PAGE_SIZE = 50


def _held(uow: UnitOfWork, message_row_id: int, statuses: tuple[str, ...]) -> InboundMessage:
    row = uow.session.get(InboundMessage, message_row_id, with_for_update=True)
    if row is None:
        raise NotFound(f"inbound message {message_row_id} not found")
    if row.status not in statuses:
        raise Conflict(f"inbound message {message_row_id} is {row.status}, not {' or '.join(statuses)}")
    return row


def _parsed(
    uow: UnitOfWork, row: InboundMessage, *, remote_images: bool = False
) -> tuple[ParsedMessage, dict[str, Any]]:
    settings = pipeline.email_settings(uow)
    limits = Limits(settings["max_message_bytes"], settings["max_parts"], settings["max_depth"])
    images = remote_images or settings["load_remote_images"]
    message = parse(pipeline.load_raw(uow.desk, row), limits, allow_remote_images=images)
    return message, settings


def parsed_message(uow: UnitOfWork, row: InboundMessage, *, remote_images: bool = False) -> ParsedMessage | None:
    """The recorded message parsed again (for showing it), or None when it is over the limits.

    ``remote_images``: keep the HTML's remote images (an agent asked to see them) whatever the setting.
    """
    try:
        return _parsed(uow, row, remote_images=remote_images)[0]
    except Quarantine:
        return None


def _reviewed(row: InboundMessage, uow: UnitOfWork, action: str, **extra: Any) -> None:
    by = getattr(uow.actor, "email", "system")
    review = {"action": action, "by": by, "at": utcnow().isoformat(), **extra}
    row.decision = {**row.decision, "status": row.status, "outcome": row.outcome, "review": review}
    row.processed_at = utcnow()


def accept(uow: UnitOfWork, message_row_id: int, ticket_number: int) -> Comment:
    """Append a held message to ticket ``ticket_number`` as its sender, who becomes a CC of the ticket."""
    uow.require(PERMISSION)
    row = _held(uow, message_row_id, (pipeline.REVIEW,))
    ticket = get_ticket(uow, ticket_number)
    message, settings = _parsed(uow, row)
    if message.from_address is None:
        raise ValidationError({"message": ["the message has no valid sender address"]})
    sender = person(uow, message.from_address, field="sender", create=True, name=message.from_name)
    uow.session.flush()
    decision = dict(row.decision)
    if pipeline.participant_role(uow, ticket, sender) is None:
        update_ticket(uow, ticket.number, {"add_ccs": [sender.email]})
        decision["added_cc"] = sender.email
    found = row.decision.get("classification") or {}
    kind = Classification(found.get("kind", PERSON), found.get("signals", []))
    comment = pipeline.append_message(uow, ticket, message, sender, kind, settings, decision)
    pipeline.remember_reference(uow, message.message_id, ticket.id)
    row.decision = decision
    row.status, row.outcome, row.reason = pipeline.PROCESSED, pipeline.APPENDED, None
    row.ticket_id, row.comment_id = ticket.id, comment.id
    _reviewed(row, uow, "accepted", ticket=ticket.number)
    return comment


def create_ticket_from(uow: UnitOfWork, message_row_id: int) -> Ticket:
    """Open a new ticket from a held message (its sender becomes the requester)."""
    uow.require(PERMISSION)
    row = _held(uow, message_row_id, (pipeline.REVIEW,))
    message, settings = _parsed(uow, row)
    if message.from_address is None:
        raise ValidationError({"message": ["the message has no valid sender address"]})
    mailbox = uow.session.get(Mailbox, row.mailbox_id) if row.mailbox_id else None
    decision = dict(row.decision)
    ticket = pipeline.open_ticket(uow, message, mailbox, settings, decision)
    pipeline.remember_reference(uow, message.message_id, ticket.id)
    row.decision = decision
    row.status, row.outcome, row.reason = pipeline.PROCESSED, pipeline.CREATED, None
    row.ticket_id, row.comment_id = ticket.id, None
    _reviewed(row, uow, "new_ticket", ticket=ticket.number)
    return ticket


def discard(uow: UnitOfWork, message_row_id: int) -> InboundMessage:
    """Refuse a held (or failed, or quarantined) message for good; it stays on record as discarded."""
    uow.require(PERMISSION)
    row = _held(uow, message_row_id, REPROCESSABLE)
    row.status, row.outcome = pipeline.REJECTED, pipeline.DISCARDED
    row.reason = f"discarded by {getattr(uow.actor, 'email', 'system')}"
    _reviewed(row, uow, "discarded")
    return row


def reprocess(desk: Desk, message_row_id: int, *, actor: Actor) -> pipeline.Outcome:
    """Run a failed, quarantined or held message through the pipeline again (e.g. after a fix or a new limit)."""
    with desk.action(actor, source=pipeline.SOURCE) as uow:
        uow.require(PERMISSION)
        row = _held(uow, message_row_id, REPROCESSABLE)
        row.status, row.reason, row.outcome = pipeline.RECEIVED, None, None
        row.ticket_id = row.comment_id = None
    return pipeline.process(desk, message_row_id)


def visible_message(uow: UnitOfWork, message_row_id: int) -> InboundMessage:
    """A recorded message for the actor: mail managers see all, agents those of tickets they may see."""
    row = uow.session.get(InboundMessage, message_row_id)
    if row is None or uow.actor is None:
        raise NotFound(f"inbound message {message_row_id} not found")
    if uow.can(PERMISSION):
        return row
    if row.ticket_id is None or not uow.can("tickets.work"):
        raise NotFound(f"inbound message {message_row_id} not found")
    get_ticket(uow, row.ticket_id)
    return row


def messages_of_ticket(uow: UnitOfWork, ticket: Ticket) -> list[InboundMessage]:
    """The mail filed under a ticket, oldest first (one query, for the ticket page)."""
    uow.require("tickets.work")
    query = select(InboundMessage).where(InboundMessage.ticket_id == ticket.id).order_by(InboundMessage.id)
    return list(uow.session.scalars(query))


def _listing(uow: UnitOfWork, statuses: tuple[str, ...], before: int | None, limit: int) -> list[InboundMessage]:
    uow.require(PERMISSION)
    query = select(InboundMessage).where(InboundMessage.status.in_(statuses))
    if before is not None:
        query = query.where(InboundMessage.id < before)
    return list(uow.session.scalars(query.order_by(InboundMessage.id.desc()).limit(max(1, min(limit, 200)))))


def pending(uow: UnitOfWork, *, before: int | None = None, limit: int = PAGE_SIZE) -> list[InboundMessage]:
    """Messages waiting in review, newest first; pass the last id as ``before`` for the next page."""
    return _listing(uow, (pipeline.REVIEW,), before, limit)


def failed(uow: UnitOfWork, *, before: int | None = None, limit: int = PAGE_SIZE) -> list[InboundMessage]:
    """Failed and quarantined messages, newest first; pass the last id as ``before`` for the next page."""
    return _listing(uow, (pipeline.FAILED, pipeline.QUARANTINED), before, limit)
