"""The ticket workflow: default statuses per category, allowed moves, and the timestamps they set."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import Priority, Status, StatusCategory, Ticket, TicketType
from frontdesk.uow import UnitOfWork


def status_named(uow: UnitOfWork, name: str, field: str = "status") -> Status:
    """The status called ``name`` (any case); a validation error naming ``field`` otherwise."""
    status = uow.desk.catalog.status_named(uow.session, name) or uow.session.scalar(
        select(Status).where(func.lower(Status.name) == name.strip().lower())
    )
    if status is None:
        known = ", ".join(uow.session.scalars(select(Status.name).order_by(Status.position)))
        raise ValidationError({field: [f"no status named {name!r} (statuses: {known})"]})
    return status


def status_in(uow: UnitOfWork, category: StatusCategory) -> Status:
    """The default status of a category (the flagged default, else the first by position)."""
    status = uow.desk.catalog.status_in(uow.session, category) or uow.session.scalar(
        select(Status).where(Status.category == category).order_by(Status.is_default.desc(), Status.position).limit(1)
    )
    if status is None:
        raise NotFound(f"no status in category {category.value!r} is configured")
    return status


def initial_status(uow: UnitOfWork) -> Status:
    """The status new tickets start in."""
    return status_in(uow, StatusCategory.NEW)


def priority_named(uow: UnitOfWork, name: str | None) -> Priority:
    """The priority called ``name``, or the default priority when ``name`` is None."""
    cached = uow.desk.catalog.priority_named(uow.session, name)
    if cached is not None:
        return cached
    query = select(Priority)
    if name is None:
        priority = uow.session.scalar(query.order_by(Priority.is_default.desc(), Priority.rank).limit(1))
    else:
        priority = uow.session.scalar(query.where(func.lower(Priority.name) == name.strip().lower()))
    if priority is None:
        known = ", ".join(uow.session.scalars(select(Priority.name).order_by(Priority.rank)))
        raise ValidationError({"priority": [f"no priority named {name!r} (priorities: {known})"]})
    return priority


def type_named(uow: UnitOfWork, name: str) -> TicketType:
    """The ticket type called ``name`` (any case)."""
    found = uow.desk.catalog.type_named(uow.session, name) or uow.session.scalar(
        select(TicketType).where(func.lower(TicketType.name) == name.strip().lower())
    )
    if found is None:
        known = ", ".join(uow.session.scalars(select(TicketType.name).order_by(TicketType.position)))
        raise ValidationError({"type": [f"no type named {name!r} (types: {known})"]})
    return found


def ensure_open_for_changes(ticket: Ticket) -> None:
    """Closed tickets are read-only: a follow-up becomes a new ticket."""
    if ticket.is_closed:
        raise Conflict(f"ticket #{ticket.number} is closed and cannot change; open a follow-up ticket instead")


def check_move(ticket: Ticket, new: Status) -> None:
    """Refuse moves the workflow does not allow (back to ``new``)."""
    if new.category == StatusCategory.NEW and ticket.status_category != StatusCategory.NEW:
        raise ValidationError({"status": [f"ticket #{ticket.number} cannot go back to {new.name!r}"]})


def move(ticket: Ticket, new: Status, now: datetime) -> None:
    """Put the ticket in status ``new`` and keep the solved/closed timestamps true."""
    ticket.status = new
    ticket.status_id = new.id
    ticket.status_category = new.category
    ticket.status_changed_at = now
    if new.category == StatusCategory.SOLVED:
        ticket.solved_at = now
    elif new.category == StatusCategory.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    else:
        ticket.solved_at = None
