"""Delivering committed events to plugins' after-commit hooks: at least once, in order per ticket.

Services write an :class:`~frontdesk.models.Event` row in the same transaction as the change, so a
crash after commit loses nothing: undelivered events stay ``pending`` and any later dispatch picks
them up. Each plugin's hook is called separately; a plugin that raises is retried with backoff
(only that plugin), and after ``MAX_ATTEMPTS`` the event is marked ``failed`` with the error kept.
While an event of a ticket waits for a retry, later events of that ticket wait too.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from frontdesk.db import utcnow
from frontdesk.jobs import backoff
from frontdesk.models import Event, EventFailure, EventState, Ticket, User

if TYPE_CHECKING:
    from frontdesk.desk import Desk

log = logging.getLogger("frontdesk.events")

MAX_ATTEMPTS = 5
AUTOMATION = "automation"  # the consumer name the engine's failures are recorded under


def has_consumers(desk: Desk, name: str) -> bool:
    """Whether an enabled plugin implements the hook an event called ``name`` goes to, or a trigger listens."""
    hook = Event(name=name).hook_name
    has_hook = hasattr(desk.plugins.pm.hook, hook) and bool(desk.plugins.calls.implementations(hook))
    return has_hook or desk.automation.listens_to(name)


@dataclass
class DispatchReport:
    """What one dispatch pass did."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)

    def merge(self, other: DispatchReport) -> None:
        """Add another pass's results to this report."""
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.waiting = [event_id for event_id in self.waiting if event_id not in other.delivered] + other.waiting


class Dispatcher:
    """Delivers pending events of one desk."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def deliver(self, event_ids: Sequence[int]) -> DispatchReport:
        """Deliver these just-committed events (the inline path right after an action)."""
        if not event_ids:
            return DispatchReport()
        report = DispatchReport()
        ids, tried = list(event_ids), set(event_ids)
        while ids:
            query = select(Event).where(Event.id.in_(ids), Event.state == EventState.PENDING).order_by(Event.id)
            part = self._run(query, earlier_pending_blocks=True)
            report.merge(part)
            ids = [event_id for event_id in self._follow_ups(part) if event_id not in tried]
            tried.update(ids)
        return report

    def _follow_ups(self, part: DispatchReport) -> list[int]:
        """Events of the same tickets that waited for these (e.g. written by automation meanwhile)."""
        done = part.delivered + part.failed
        if not done:
            return []
        with self.desk.db.reading() as session:
            tickets = select(Event.ticket_id).where(Event.id.in_(done), Event.ticket_id.is_not(None))
            query = select(Event.id).where(
                Event.state == EventState.PENDING, Event.ticket_id.in_(tickets), Event.id > min(done)
            )
            return list(session.scalars(query.order_by(Event.id).limit(1000)))

    def dispatch_pending(self, limit: int = 1000, now: datetime | None = None) -> DispatchReport:
        """Deliver up to ``limit`` pending events, oldest first (catch-up after a crash, retries)."""
        query = select(Event).where(Event.state == EventState.PENDING).order_by(Event.id).limit(limit)
        return self._run(query, earlier_pending_blocks=False, now=now)

    def _run(self, query: Any, *, earlier_pending_blocks: bool, now: datetime | None = None) -> DispatchReport:
        now = now or utcnow()
        report = DispatchReport()
        blocked: set[int] = set()
        with self.desk.db.reading() as session:
            events = session.scalars(query).all()
        for event in events:
            ticket_id = event.ticket_id
            if ticket_id is not None and (
                ticket_id in blocked or (earlier_pending_blocks and self._has_earlier_pending(event))
            ):
                report.waiting.append(event.id)
                continue
            if event.next_attempt_at is not None and event.next_attempt_at > now:
                report.waiting.append(event.id)
            else:
                outcome = self._deliver_one(event, now)
                getattr(report, outcome).append(event.id)
                if outcome != "retrying":
                    continue
            if ticket_id is not None:
                blocked.add(ticket_id)
        return report

    def _has_earlier_pending(self, event: Event) -> bool:
        with self.desk.db.reading() as session:
            earlier = select(Event.id).where(
                Event.state == EventState.PENDING, Event.ticket_id == event.ticket_id, Event.id < event.id
            )
            return session.scalar(earlier.limit(1)) is not None

    def _deliver_one(self, event: Event, now: datetime) -> str:
        consumers = self._consumers(event)
        with self.desk.db.reading() as session:
            retry = {f.plugin: f for f in session.scalars(select(EventFailure).filter_by(event_id=event.id))}
            if retry:
                consumers = {
                    name: call for name, call in consumers.items() if name in retry and not retry[name].given_up
                }
            arguments = self._arguments(session, event)
            errors = {name: error for name, call in consumers.items() if (error := _run(call, arguments)) is not None}
        return self._record(event, errors, now)

    def _consumers(self, event: Event) -> dict[str, Callable[[dict[str, Any]], None]]:
        """Who gets the event, by name: each plugin implementing its hook, then the automation engine."""
        consumers: dict[str, Callable[[dict[str, Any]], None]] = {}
        if hasattr(self.desk.plugins.pm.hook, event.hook_name):
            for impl in self.desk.plugins.calls.implementations(event.hook_name):
                consumers[impl.plugin_name] = partial(_call_hook, impl)
        if event.ticket_id is not None and self.desk.automation.listens_to(event.name):
            consumers[AUTOMATION] = lambda arguments: self.desk.automation.handle_event(arguments["event"])
        return consumers

    def _arguments(self, session: Session, event: Event) -> dict[str, Any]:
        ticket = None
        if event.ticket_id is not None:
            ticket = session.scalar(
                select(Ticket)
                .where(Ticket.id == event.ticket_id)
                .options(selectinload(Ticket.tags), selectinload(Ticket.ccs))
            )
        actor = session.get(User, event.actor_id) if event.actor_id else None
        return {"event": event, "ticket": ticket, "actor": actor, "desk": self.desk}

    def _record(self, event: Event, errors: dict[str, str], now: datetime) -> str:
        with self.desk.db.transaction() as session:
            stored = session.get(Event, event.id)
            assert stored is not None
            stored.attempts += 1
            failures = {f.plugin: f for f in session.scalars(select(EventFailure).filter_by(event_id=event.id))}
            for plugin, failure in list(failures.items()):
                if plugin not in errors and not failure.given_up:  # succeeded on this retry
                    session.delete(failure)
                    del failures[plugin]
            for plugin, error in errors.items():
                failure = failures.setdefault(plugin, EventFailure(event_id=event.id, plugin=plugin, attempts=0))
                failure.attempts += 1
                failure.error = error
                failure.given_up = failure.attempts >= MAX_ATTEMPTS
                session.add(failure)
                log.error("plugin %r failed to handle event %s #%d: %s", plugin, event.name, event.id, error)
            open_failures = [f for f in failures.values() if not f.given_up]
            if open_failures:
                stored.next_attempt_at = now + backoff(max(f.attempts for f in open_failures))
                return "retrying"
            stored.next_attempt_at = None
            stored.delivered_at = now
            stored.state = EventState.FAILED if failures else EventState.DELIVERED
            return "failed" if failures else "delivered"


def _call_hook(impl: Any, arguments: dict[str, Any]) -> None:
    impl.function(**{name: arguments[name] for name in impl.argnames})


def _run(call: Callable[[dict[str, Any]], None], arguments: dict[str, Any]) -> str | None:
    """Hand the event to one consumer; return the error text if it raised."""
    try:
        call(arguments)
    except Exception as exc:
        return "".join(traceback.format_exception_only(exc)).strip()
    return None
