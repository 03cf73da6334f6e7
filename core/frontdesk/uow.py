"""The unit of work a service function receives: session, actor, source and the desk around them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, SessionTransaction, make_transient, make_transient_to_detached

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
    # Objects written by plain statements rather than the flush (see ``wrote``): (object, new row).
    written: list[tuple[Any, bool]] = field(default_factory=list)
    savepoints: list[SessionTransaction] = field(default_factory=list)

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
        once the transaction commits, and no object of the session may still look stored: objects
        written by plain statements (see :meth:`wrote`) become transient or are expired, as the ORM
        does with what its flush wrote. Steps that may fail on their own (one ticket of a bulk
        change, one automation rule, one message of a mail import) run in one.
        """
        emitted, queued, written = len(self.emitted), len(self.queued), len(self.written)
        try:
            with self.session.begin_nested() as nested:
                self.savepoints.append(nested)
                try:
                    yield
                finally:
                    self.savepoints.pop()
        except BaseException:
            for obj, new in reversed(self.written[written:]):
                if obj not in self.session:
                    continue
                if new:
                    make_transient(obj)
                else:
                    self.session.expire(obj)
            del self.emitted[emitted:], self.queued[queued:], self.written[written:]
            raise

    def writes_directly(self) -> bool:
        """Whether a service may write rows by plain statements instead of the ORM's flush.

        It may outside savepoints, and inside the innermost one :meth:`savepoint` opened, which
        knows to forget the objects again; a savepoint opened on the session by other means would not.
        """
        nested = self.session.get_nested_transaction()
        return nested is None or (bool(self.savepoints) and nested is self.savepoints[-1])

    def wrote(self, obj: Any, *, new: bool) -> None:
        """Note that ``obj``'s row was written by a plain statement and the object made to look stored.

        If the savepoint it was written in rolls back, a new row's object becomes transient (as if
        never added) and a changed one is expired, so it is read again as it stands.
        """
        self.written.append((obj, new))

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
