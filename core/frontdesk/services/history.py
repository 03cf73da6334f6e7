"""Recording what changed on a ticket: history rows tied to the event of the same action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from frontdesk.models import Event, HistoryEntry, Ticket
from frontdesk.uow import UnitOfWork

_INSERT_HISTORY = insert(HistoryEntry.__table__)


class ChangeSet:
    """Field changes collected during one action: ``{field: (old, new)}`` with display values."""

    def __init__(self) -> None:
        self.changes: dict[str, tuple[Any, Any]] = {}

    def add(self, field: str, old: Any, new: Any) -> None:
        """Note a change; a field changed twice keeps its first old value; no-ops are dropped."""
        if field in self.changes:
            old = self.changes[field][0]
        if old == new:
            self.changes.pop(field, None)
        else:
            self.changes[field] = (old, new)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __contains__(self, field: object) -> bool:
        return field in self.changes

    def as_payload(self) -> dict[str, list[Any]]:
        """The changes as JSON for events and hooks: ``{field: [old, new]}``."""
        return {field: [old, new] for field, (old, new) in self.changes.items()}


def record(uow: UnitOfWork, ticket: Ticket, event: Event, field: str, old: Any, new: Any) -> None:
    """Add one history row for ``ticket``."""
    _insert(uow, [_row(uow, ticket, event, field, old, new)])


def record_all(uow: UnitOfWork, ticket: Ticket, event: Event, changes: ChangeSet) -> None:
    """Add one history row per change, in one statement."""
    rows = [_row(uow, ticket, event, field, old, new) for field, (old, new) in changes.changes.items()]
    if rows:
        _insert(uow, rows)


def _row(uow: UnitOfWork, ticket: Ticket, event: Event, field: str, old: Any, new: Any) -> dict[str, Any]:
    if event.id is None:  # an event added to the session by hand rather than by ``uow.emit``
        uow.session.flush()
    return {
        "ticket_id": ticket.id,
        "event_id": event.id,
        "field": field,
        "old_value": old,
        "new_value": new,
        "actor_id": uow.actor_id,
        "source": uow.source,
        "created_at": ticket.updated_at,
    }


def _insert(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    # Append-only rows nobody changes later: a plain INSERT (executemany) spares the ORM's flush.
    uow.session.connection().execute(_INSERT_HISTORY, rows)
