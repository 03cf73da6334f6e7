"""Linking tickets to each other, and merging a duplicate into the ticket that carries on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update

from frontdesk import search
from frontdesk.db import utcnow
from frontdesk.errors import Conflict, ValidationError
from frontdesk.models import Comment, LinkKind, StatusCategory, Ticket, TicketLink
from frontdesk.schemas import load
from frontdesk.schemas.tickets import LinkCreateSchema
from frontdesk.services import workflow
from frontdesk.services.history import ChangeSet, record
from frontdesk.services.tickets import emit_changes, flush_ticket, get_ticket
from frontdesk.text import text_to_html
from frontdesk.uow import UnitOfWork


def link_tickets(uow: UnitOfWork, number: int, other: int, kind: str) -> TicketLink:
    """Link ticket ``number`` to ``other``: related, duplicate (of other) or parent (of other)."""
    uow.require("tickets.work")
    kind = load(LinkCreateSchema(), {"kind": kind})["kind"]
    source, target = get_ticket(uow, number), get_ticket(uow, other)
    if source.id == target.id:
        raise ValidationError({"other": ["a ticket cannot be linked to itself"]})
    existing = uow.session.scalar(
        select(TicketLink).where(
            TicketLink.kind == kind,
            or_(
                (TicketLink.source_id == source.id) & (TicketLink.target_id == target.id),
                (TicketLink.source_id == target.id) & (TicketLink.target_id == source.id),
            ),
        )
    )
    if existing is not None:
        raise Conflict(f"tickets #{source.number} and #{target.number} are already linked as {kind}")
    link = TicketLink(source_id=source.id, target_id=target.id, kind=kind)
    uow.session.add(link)
    _touch_both(uow, source, target, "links", None, {"kind": kind, "ticket": target.number}, "ticket.linked")
    return link


def unlink_tickets(uow: UnitOfWork, number: int, other: int) -> int:
    """Remove every link between two tickets (merges excepted); return how many were removed."""
    uow.require("tickets.work")
    source, target = get_ticket(uow, number), get_ticket(uow, other)
    links = uow.session.scalars(
        select(TicketLink).where(
            TicketLink.kind != LinkKind.MERGED,
            or_(
                (TicketLink.source_id == source.id) & (TicketLink.target_id == target.id),
                (TicketLink.source_id == target.id) & (TicketLink.target_id == source.id),
            ),
        )
    ).all()
    if not links:
        raise Conflict(f"tickets #{source.number} and #{target.number} are not linked")
    for link in links:
        uow.session.delete(link)
    _touch_both(uow, source, target, "links", {"ticket": target.number}, None, "ticket.unlinked")
    return len(links)


def _touch_both(
    uow: UnitOfWork,
    source: Ticket,
    target: Ticket,
    field: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    event_name: str,
) -> None:
    now = utcnow()
    for ticket, other in ((source, target), (target, source)):
        ticket.updated_at = now
        flush_ticket(uow, ticket)
        event = uow.emit(event_name, ticket_id=ticket.id, payload={"other": other.number})
        shown_old = old and {**old, "ticket": other.number}
        shown_new = new and {**new, "ticket": other.number}
        record(uow, ticket, event, field, shown_old, shown_new)


def merge_tickets(uow: UnitOfWork, number: int, into: int) -> None:
    """Merge ticket ``number`` into ``into``: its description and comments move over, it is closed and linked.

    The duplicate's requester becomes a CC of the surviving ticket, so nobody stops hearing back.
    """
    uow.require("tickets.work")
    source, target = get_ticket(uow, number), get_ticket(uow, into)
    if source.id == target.id:
        raise ValidationError({"into": ["a ticket cannot be merged into itself"]})
    workflow.ensure_open_for_changes(source)
    workflow.ensure_open_for_changes(target)
    now = utcnow()
    moved = list(uow.session.scalars(select(Comment.id).where(Comment.ticket_id == source.id)))
    uow.session.execute(update(Comment).where(Comment.id.in_(moved)).values(ticket_id=target.id))
    search.move_comments(uow, moved, target.id)
    opening = Comment(
        ticket_id=target.id,
        author_id=source.requester_id,
        body=text_to_html(f"Merged from #{source.number}: {source.subject}") + source.description,
        public=True,
        channel=source.channel,
        created_at=source.created_at,
    )
    note = Comment(
        ticket_id=source.id,
        author_id=uow.actor_id,
        body=text_to_html(f"Merged into #{target.number}."),
        public=False,
        channel=uow.source,
        created_at=now,
    )
    uow.session.add_all([opening, note])
    if source.requester_id != target.requester_id and source.requester not in target.ccs:
        target.ccs.append(source.requester)
    uow.session.add(TicketLink(source_id=source.id, target_id=target.id, kind=LinkKind.MERGED))

    source_changes = ChangeSet()
    closed = workflow.status_in(uow, StatusCategory.CLOSED)
    source_changes.add("status", source.status.name, closed.name)
    source_changes.add("merged_into", None, target.number)
    workflow.move(source, closed, now)
    source.merged_into_id = target.id
    target_changes = ChangeSet()
    target_changes.add("merged_from", None, source.number)
    for ticket in (source, target):
        ticket.updated_at = now
        flush_ticket(uow, ticket)
    search.index_comment(uow, opening)
    search.index_comment(uow, note)
    uow.emit("ticket.merged", ticket_id=source.id, payload={"into": target.number})
    emit_changes(uow, source, source_changes)
    emit_changes(uow, target, target_changes)
