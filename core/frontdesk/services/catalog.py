"""The desk's configurable workflow data: statuses, priorities and ticket types (admins), and tag counts.

Rules kept here: names are unique regardless of case; each status category has exactly one default
status and there is exactly one default priority; every category keeps at least one status; what
tickets use cannot be deleted. Changing a status's category moves its tickets to the new category
in the same transaction (``tickets.status_category`` is the denormalised column queues filter on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from frontdesk.access import visible_tickets
from frontdesk.db import utcnow
from frontdesk.errors import Conflict, NotFound, PermissionDenied
from frontdesk.models import Priority, Status, StatusCategory, Tag, Ticket, TicketType, ticket_tags
from frontdesk.schemas import load
from frontdesk.schemas.catalog import (
    PriorityCreateSchema,
    PriorityUpdateSchema,
    StatusCreateSchema,
    StatusUpdateSchema,
    TagListSchema,
    TicketTypeCreateSchema,
    TicketTypeUpdateSchema,
)
from frontdesk.uow import UnitOfWork

PERMISSION = "desk.configure"
Entry = TypeVar("Entry", Status, Priority, TicketType)
_LABEL = {Status: "status", Priority: "priority", TicketType: "type"}
_TICKET_COLUMN = {Status: Ticket.status_id, Priority: Ticket.priority_id, TicketType: Ticket.type_id}


# Statuses


def list_statuses(uow: UnitOfWork) -> list[Status]:
    """Every status in workflow order (any signed-in user)."""
    _require_signed_in(uow)
    return list(uow.session.scalars(select(Status).order_by(Status.position, Status.id)))


def read_status(uow: UnitOfWork, status_id: int) -> Status:
    """One status (any signed-in user)."""
    _require_signed_in(uow)
    return _get(uow, Status, status_id)


def create_status(uow: UnitOfWork, data: dict[str, Any]) -> Status:
    """Add a status to a category; ``is_default`` makes it the category's default instead of the current one."""
    uow.require(PERMISSION)
    values = load(StatusCreateSchema(), data)
    _unique_name(uow, Status, values["name"])
    position = values["position"] if values["position"] is not None else _next(uow, Status.position)
    status = Status(name=values["name"], category=values["category"], position=position, is_default=False)
    uow.session.add(status)
    _flush(uow, Status, values["name"])
    if values["is_default"]:
        _make_default_status(uow, status)
    _settle_status_defaults(uow, status.category)
    uow.emit("status.created", payload={"status_id": status.id, "name": status.name, "category": status.category})
    return status


def update_status(uow: UnitOfWork, status_id: int, data: dict[str, Any]) -> Status:
    """Rename, reorder or recategorize a status, or make it its category's default.

    A new category moves every ticket in this status to it (with their solved/closed timestamps
    kept true, and their version bumped so stale edits are refused); the old category must keep
    another status. A default cannot be switched off: make another status the default instead.
    """
    uow.require(PERMISSION)
    values = load(StatusUpdateSchema(), data)
    status = _get(uow, Status, status_id)
    old_category = status.category
    new_category = values.get("category", old_category)
    if values.get("is_default") is False and status.is_default and new_category == old_category:
        raise Conflict(
            f"{status.name!r} is the default {old_category} status; make another {old_category} status "
            "the default instead"
        )
    changes = _rename(uow, status, values)
    if "position" in values and values["position"] != status.position:
        changes["position"] = [status.position, values["position"]]
        status.position = values["position"]
    moved = 0
    if new_category != old_category:
        _keep_one_in_category(uow, status, "change the category of")
        moved = _move_tickets(uow, status, StatusCategory(new_category))
        changes["category"] = [old_category, new_category]
        status.category = new_category
        status.is_default = False
    uow.session.flush()
    if values.get("is_default") and not status.is_default:
        _make_default_status(uow, status)
        changes["is_default"] = [False, True]
    _settle_status_defaults(uow, old_category)
    _settle_status_defaults(uow, new_category)
    if changes:
        payload = {"status_id": status.id, "changes": changes, "tickets_moved": moved}
        uow.emit("status.updated", payload=payload)
    return status


def delete_status(uow: UnitOfWork, status_id: int) -> None:
    """Delete a status no ticket uses; its category must keep another status (it becomes the default if needed)."""
    uow.require(PERMISSION)
    status = _get(uow, Status, status_id)
    _refuse_if_used(uow, status)
    _keep_one_in_category(uow, status, "delete")
    category, name = status.category, status.name
    _delete(uow, status)
    _settle_status_defaults(uow, category)
    uow.emit("status.deleted", payload={"status_id": status_id, "name": name, "category": category})


# Priorities


def list_priorities(uow: UnitOfWork) -> list[Priority]:
    """Every priority, least urgent first (any signed-in user)."""
    _require_signed_in(uow)
    return list(uow.session.scalars(select(Priority).order_by(Priority.rank, Priority.id)))


def read_priority(uow: UnitOfWork, priority_id: int) -> Priority:
    """One priority (any signed-in user)."""
    _require_signed_in(uow)
    return _get(uow, Priority, priority_id)


def create_priority(uow: UnitOfWork, data: dict[str, Any]) -> Priority:
    """Add a priority; ``is_default`` makes it the priority of new tickets instead of the current default."""
    uow.require(PERMISSION)
    values = load(PriorityCreateSchema(), data)
    _unique_name(uow, Priority, values["name"])
    priority = Priority(name=values["name"], rank=values["rank"], is_default=False)
    uow.session.add(priority)
    _flush(uow, Priority, values["name"])
    if values["is_default"]:
        _make_default_priority(uow, priority)
    _settle_priority_default(uow)
    uow.emit("priority.created", payload={"priority_id": priority.id, "name": priority.name})
    return priority


def update_priority(uow: UnitOfWork, priority_id: int, data: dict[str, Any]) -> Priority:
    """Rename or re-rank a priority, or make it the default (switching the default off is refused)."""
    uow.require(PERMISSION)
    values = load(PriorityUpdateSchema(), data)
    priority = _get(uow, Priority, priority_id)
    if values.get("is_default") is False and priority.is_default:
        raise Conflict(f"{priority.name!r} is the default priority; make another priority the default instead")
    changes = _rename(uow, priority, values)
    if "rank" in values and values["rank"] != priority.rank:
        changes["rank"] = [priority.rank, values["rank"]]
        priority.rank = values["rank"]
    uow.session.flush()
    if values.get("is_default") and not priority.is_default:
        _make_default_priority(uow, priority)
        changes["is_default"] = [False, True]
    if changes:
        uow.emit("priority.updated", payload={"priority_id": priority.id, "changes": changes})
    return priority


def delete_priority(uow: UnitOfWork, priority_id: int) -> None:
    """Delete a priority no ticket uses; the last one stays (a deleted default passes to the least urgent)."""
    uow.require(PERMISSION)
    priority = _get(uow, Priority, priority_id)
    _refuse_if_used(uow, priority)
    others = uow.session.scalar(select(func.count()).select_from(Priority).where(Priority.id != priority.id))
    if not others:
        raise Conflict(f"{priority.name!r} is the only priority; tickets need one")
    name = priority.name
    _delete(uow, priority)
    _settle_priority_default(uow)
    uow.emit("priority.deleted", payload={"priority_id": priority_id, "name": name})


# Ticket types


def list_types(uow: UnitOfWork) -> list[TicketType]:
    """Every ticket type in display order (any signed-in user)."""
    _require_signed_in(uow)
    return list(uow.session.scalars(select(TicketType).order_by(TicketType.position, TicketType.id)))


def read_type(uow: UnitOfWork, type_id: int) -> TicketType:
    """One ticket type (any signed-in user)."""
    _require_signed_in(uow)
    return _get(uow, TicketType, type_id)


def create_type(uow: UnitOfWork, data: dict[str, Any]) -> TicketType:
    """Add a ticket type (last in display order unless ``position`` says otherwise)."""
    uow.require(PERMISSION)
    values = load(TicketTypeCreateSchema(), data)
    _unique_name(uow, TicketType, values["name"])
    position = values["position"] if values["position"] is not None else _next(uow, TicketType.position)
    ticket_type = TicketType(name=values["name"], position=position)
    uow.session.add(ticket_type)
    _flush(uow, TicketType, values["name"])
    uow.emit("type.created", payload={"type_id": ticket_type.id, "name": ticket_type.name})
    return ticket_type


def update_type(uow: UnitOfWork, type_id: int, data: dict[str, Any]) -> TicketType:
    """Rename or reorder a ticket type."""
    uow.require(PERMISSION)
    values = load(TicketTypeUpdateSchema(), data)
    ticket_type = _get(uow, TicketType, type_id)
    changes = _rename(uow, ticket_type, values)
    if "position" in values and values["position"] != ticket_type.position:
        changes["position"] = [ticket_type.position, values["position"]]
        ticket_type.position = values["position"]
    uow.session.flush()
    if changes:
        uow.emit("type.updated", payload={"type_id": ticket_type.id, "changes": changes})
    return ticket_type


def delete_type(uow: UnitOfWork, type_id: int) -> None:
    """Delete a ticket type no ticket uses."""
    uow.require(PERMISSION)
    ticket_type = _get(uow, TicketType, type_id)
    _refuse_if_used(uow, ticket_type)
    name = ticket_type.name
    _delete(uow, ticket_type)
    uow.emit("type.deleted", payload={"type_id": type_id, "name": name})


# Tags


@dataclass(frozen=True)
class TagCount:
    """A tag and how many tickets the actor can see carry it."""

    name: str
    count: int


def tags_with_counts(uow: UnitOfWork, prefix: str | None = None, limit: int = 100) -> list[TagCount]:
    """The tags on tickets the actor may see, most used first, counting only those tickets (staff only).

    A tag found only on tickets the actor cannot see is not listed, so its name does not leak.
    """
    actor = uow.actor
    if actor is None or not actor.is_staff or not getattr(actor, "active", True):
        raise PermissionDenied("tag counts are for agents and admins")
    values = load(TagListSchema(), {"prefix": prefix, "limit": limit})
    count = func.count(ticket_tags.c.ticket_id)
    query = (
        select(Tag.name, count)
        .join(ticket_tags, ticket_tags.c.tag_id == Tag.id)
        .join(Ticket, Ticket.id == ticket_tags.c.ticket_id)
        .where(visible_tickets(actor))
        .group_by(Tag.id, Tag.name)
        .order_by(count.desc(), Tag.name)
        .limit(values["limit"])
    )
    start = (values["prefix"] or "").strip().lower()
    if start:
        query = query.where(Tag.name.like(_escape_like(start) + "%", escape="\\"))
    return [TagCount(name, n) for name, n in uow.session.execute(query)]


# Helpers


def _require_signed_in(uow: UnitOfWork) -> None:
    if uow.actor is None:
        raise PermissionDenied("sign in to see the desk's configuration")


def _get(uow: UnitOfWork, model: type[Entry], entry_id: int) -> Entry:
    found = uow.session.get(model, entry_id)
    if found is None:
        raise NotFound(f"no {_LABEL[model]} with id {entry_id}")
    return found


def _unique_name(uow: UnitOfWork, model: type[Entry], name: str, *, exclude: int | None = None) -> None:
    query = select(model.name).where(func.lower(model.name) == name.lower())
    if exclude is not None:
        query = query.where(model.id != exclude)
    clash = uow.session.scalar(query)
    if clash is not None:
        raise Conflict(f"a {_LABEL[model]} named {clash!r} already exists")


def _rename(uow: UnitOfWork, entry: Entry, values: dict[str, Any]) -> dict[str, list[Any]]:
    if "name" not in values or values["name"] == entry.name:
        return {}
    _unique_name(uow, type(entry), values["name"], exclude=entry.id)
    changes: dict[str, list[Any]] = {"name": [entry.name, values["name"]]}
    entry.name = values["name"]
    _flush(uow, type(entry), values["name"])
    return changes


def _flush(uow: UnitOfWork, model: type[Entry], name: str) -> None:
    """Flush; a name taken meanwhile by a concurrent transaction is a :class:`Conflict`, not a crash."""
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(f"a {_LABEL[model]} named {name!r} already exists") from None


def _next(uow: UnitOfWork, column: Any) -> int:
    return int(uow.session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 10


def _refuse_if_used(uow: UnitOfWork, entry: Entry) -> None:
    column = _TICKET_COLUMN[type(entry)]
    used = uow.session.scalar(select(func.count()).select_from(Ticket).where(column == entry.id)) or 0
    if used:
        tickets = "1 ticket uses" if used == 1 else f"{used} tickets use"
        raise Conflict(f"{tickets} the {_LABEL[type(entry)]} {entry.name!r}; move them elsewhere first")


def _delete(uow: UnitOfWork, entry: Entry) -> None:
    """Delete; a reference made meanwhile (a new ticket, a plugin's row) is a :class:`Conflict`."""
    uow.session.delete(entry)
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(f"the {_LABEL[type(entry)]} {entry.name!r} is still in use") from None


def _keep_one_in_category(uow: UnitOfWork, status: Status, doing: str) -> None:
    others = uow.session.scalar(
        select(func.count()).select_from(Status).where(Status.category == status.category, Status.id != status.id)
    )
    if not others:
        raise Conflict(
            f"{status.name!r} is the only {status.category} status; add another before you {doing} it "
            "(every category needs one)"
        )


def _make_default_status(uow: UnitOfWork, status: Status) -> None:
    # Updating every row of the category (not only the current default) locks them all on
    # PostgreSQL, so two admins choosing different defaults at once cannot leave two defaults.
    uow.session.execute(
        update(Status).where(Status.category == status.category, Status.id != status.id).values(is_default=False),
        execution_options={"synchronize_session": "fetch"},
    )
    status.is_default = True
    uow.session.flush()


def _settle_status_defaults(uow: UnitOfWork, category: str) -> None:
    """Leave exactly one default in ``category``: the flagged one, else the first by position."""
    rows = uow.session.scalars(
        select(Status).where(Status.category == category).order_by(Status.is_default.desc(), Status.position, Status.id)
    ).all()
    for index, row in enumerate(rows):
        row.is_default = index == 0
    uow.session.flush()


def _make_default_priority(uow: UnitOfWork, priority: Priority) -> None:
    uow.session.execute(
        update(Priority).where(Priority.id != priority.id).values(is_default=False),
        execution_options={"synchronize_session": "fetch"},
    )
    priority.is_default = True
    uow.session.flush()


def _settle_priority_default(uow: UnitOfWork) -> None:
    """Leave exactly one default priority: the flagged one, else the least urgent (as ticket creation picks)."""
    rows = uow.session.scalars(select(Priority).order_by(Priority.is_default.desc(), Priority.rank, Priority.id)).all()
    for index, row in enumerate(rows):
        row.is_default = index == 0
    uow.session.flush()


def _move_tickets(uow: UnitOfWork, status: Status, category: StatusCategory) -> int:
    """Put the tickets in ``status`` into ``category``, keeping solved/closed timestamps true; how many moved."""
    now = utcnow()
    solved = category in (StatusCategory.SOLVED, StatusCategory.CLOSED)
    closed = category == StatusCategory.CLOSED
    result = uow.session.execute(
        update(Ticket)
        .where(Ticket.status_id == status.id)
        .values(
            status_category=category.value,
            solved_at=func.coalesce(Ticket.solved_at, now) if solved else None,
            closed_at=func.coalesce(Ticket.closed_at, now) if closed else None,
            version=Ticket.version + 1,
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount or 0)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = [
    "TagCount",
    "create_priority",
    "create_status",
    "create_type",
    "delete_priority",
    "delete_status",
    "delete_type",
    "list_priorities",
    "list_statuses",
    "list_types",
    "read_priority",
    "read_status",
    "read_type",
    "tags_with_counts",
    "update_priority",
    "update_status",
    "update_type",
]
