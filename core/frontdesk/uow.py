"""The unit of work a service function receives: session, actor, source and the desk around them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, make_transient_to_detached

from frontdesk.db import utcnow
from frontdesk.events import has_consumers
from frontdesk.models import Event, EventState, JobRecord, User

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.permissions import Actor

_INSERT_EVENT = insert(Event.__table__)


@dataclass
class UnitOfWork:
    """Everything one service call needs; it lives exactly as long as one transaction."""

    desk: Desk
    session: Session
    actor: Actor | None
    source: str
    emitted: list[Event] = field(default_factory=list)
    queued: list[tuple[JobRecord, timedelta | None]] = field(default_factory=list)
    chain: dict[str, Any] | None = None

    @property
    def actor_id(self) -> int | None:
        """The acting user's id, or None for the system."""
        return self.actor.id if isinstance(self.actor, User) else None

    def emit(self, name: str, *, ticket_id: int | None = None, payload: dict[str, Any] | None = None) -> Event:
        """Record an event in this transaction; after commit it is delivered to the hook for ``name``.

        An event nobody consumes is stored as already delivered, so the outbox holds only real work.
        The row is written at once, so its id is known on return; the :class:`Event` returned is a
        detached copy of that row (changing it changes nothing stored).
        """
        consumed = has_consumers(self.desk, name)
        payload = dict(payload or {})
        if self.chain is not None:  # caused by automation: the rules' loop protection follows the chain
            payload["automation"] = self.chain
        now = utcnow()
        values = {
            "name": name,
            "ticket_id": ticket_id,
            "actor_id": self.actor_id,
            "source": self.source,
            "payload": payload,
            "state": EventState.PENDING.value if consumed else EventState.DELIVERED.value,
            "attempts": 0,
            "next_attempt_at": None,
            "created_at": now,
            "delivered_at": None if consumed else now,
        }
        # A plain INSERT in this transaction: cheaper than having the ORM track and flush a row that
        # nothing in the action changes again.
        inserted = self.session.connection().execute(_INSERT_EVENT, values)
        event = Event(id=inserted.inserted_primary_key[0], **values)
        make_transient_to_detached(event)
        self.emitted.append(event)
        return event

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint in this transaction; rolled back, it also takes back the events and jobs of its block.

        What a rolled-back savepoint wrote never happened, so nothing of it may be delivered or run
        once the transaction commits. Steps that may fail on their own (one ticket of a bulk change,
        one automation rule, one message of a mail import) run in one.
        """
        emitted, queued = len(self.emitted), len(self.queued)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            del self.emitted[emitted:], self.queued[queued:]
            raise

    def enqueue(self, job: str, /, *, delay: timedelta | None = None, **arguments: Any) -> JobRecord:
        """Queue job ``job`` with JSON ``arguments`` if and when this transaction commits (see ``frontdesk.jobs``)."""
        record = self.desk.jobs.record(job, arguments, delay=delay)
        self.session.add(record)
        self.queued.append((record, delay))
        return record

    def require(self, permission: str) -> None:
        """Raise :class:`~frontdesk.errors.PermissionDenied` unless the actor holds ``permission``."""
        self.desk.permissions.require(self.actor, permission)

    def can(self, permission: str) -> bool:
        """Whether the actor holds ``permission``."""
        return self.desk.permissions.can(self.actor, permission)
