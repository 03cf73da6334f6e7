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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from frontdesk.db import utcnow
from frontdesk.jobs import backoff
from frontdesk.models import Event, EventFailure, EventState, Ticket, User
from frontdesk.models.events import hook_name

if TYPE_CHECKING:
    from frontdesk.desk import Desk

log = logging.getLogger("frontdesk.events")

MAX_ATTEMPTS = 5
AUTOMATION = "automation"  # the consumer name the engine's failures are recorded under


def has_consumers(desk: Desk, name: str) -> bool:
    """Whether an enabled plugin implements the hook an event called ``name`` goes to, or a trigger listens."""
    hook = hook_name(name)
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
        """Deliver these just-committed events, then the events they caused (the path right after an action)."""
        if not event_ids:
            return DispatchReport()
        query = select(Event).where(Event.id.in_(event_ids), Event.state == EventState.PENDING).order_by(Event.id)
        return self._run_with_follow_ups(query, earlier_pending_blocks=True, tried=set(event_ids))

    def dispatch_pending(self, limit: int = 1000, now: datetime | None = None) -> DispatchReport:
        """Deliver up to ``limit`` pending events, oldest first, then the events they caused (catch-up, retries)."""
        query = select(Event).where(Event.state == EventState.PENDING).order_by(Event.id).limit(limit)
        return self._run_with_follow_ups(query, earlier_pending_blocks=False, now=now)

    def _run_with_follow_ups(
        self, query: Any, *, earlier_pending_blocks: bool, tried: set[int] | None = None, now: datetime | None = None
    ) -> DispatchReport:
        report = self._run(query, earlier_pending_blocks=earlier_pending_blocks, now=now)
        tried = (tried or set()) | set(report.delivered + report.failed + report.retrying + report.waiting)
        while ids := [event_id for event_id in self._follow_ups(report) if event_id not in tried]:
            tried.update(ids)
            query = select(Event).where(Event.id.in_(ids), Event.state == EventState.PENDING).order_by(Event.id)
            report.merge(self._run(query, earlier_pending_blocks=True, now=now))
        return report

    def _follow_ups(self, report: DispatchReport) -> list[int]:
        """Pending events of the tickets just delivered to, written meanwhile (e.g. by their triggers' actions)."""
        done = report.delivered + report.failed
        if not done:
            return []
        with self.desk.db.reading() as session:
            tickets = select(Event.ticket_id).where(Event.id.in_(done), Event.ticket_id.is_not(None))
            query = select(Event.id).where(
                Event.state == EventState.PENDING, Event.ticket_id.in_(tickets), Event.id > min(done)
            )
            return list(session.scalars(query.order_by(Event.id).limit(1000)))

    def _run(self, query: Any, *, earlier_pending_blocks: bool, now: datetime | None = None) -> DispatchReport:
        """One pass: deliver the selected events in id order, in one read and one write transaction.

        The automation engine gets the whole pass at once (it batches its reads and log writes);
        plugin hooks get one call per event. A ticket whose event must be retried holds back its
        later events.
        """
        now = now or utcnow()
        report = DispatchReport()
        with self.desk.db.reading() as session:
            events = session.scalars(query).all()
            ready = self._ready(events, report, earlier_pending_blocks, now)
            if not ready:
                return report
            failures = _failures(session, [event.id for event in ready])
            consumers = {event.id: self._consumers(event, failures.get(event.id, {})) for event in ready}
            automated = [event for event in ready if AUTOMATION in consumers[event.id]]
            automation_errors = self.desk.automation.handle_events(automated) if automated else {}
            arguments = self._arguments(session, [e for e in ready if set(consumers[e.id]) - {AUTOMATION}])
            blocked: set[int] = set()
            outcomes: dict[int, dict[str, str]] = {}
            for event in ready:
                if event.ticket_id is not None and event.ticket_id in blocked:
                    report.waiting.append(event.id)
                    continue
                errors = {
                    name: error
                    for name, call in consumers[event.id].items()
                    if name != AUTOMATION and (error := _run(call, arguments[event.id])) is not None
                }
                if event.id in automation_errors:
                    errors[AUTOMATION] = automation_errors[event.id]
                outcomes[event.id] = errors
                if errors and event.ticket_id is not None:
                    blocked.add(event.ticket_id)
        self._record(ready, outcomes, failures, now, report)
        return report

    def _ready(
        self, events: Sequence[Event], report: DispatchReport, earlier_blocks: bool, now: datetime
    ) -> list[Event]:
        """The events of this pass that may be delivered now; the others are reported waiting."""
        ready, blocked = [], set()
        earliest = self._earliest_pending_elsewhere(events) if earlier_blocks else {}
        for event in events:
            ticket_id = event.ticket_id
            if ticket_id is not None and (ticket_id in blocked or earliest.get(ticket_id, event.id) < event.id):
                report.waiting.append(event.id)
                blocked.add(ticket_id)
            elif event.next_attempt_at is not None and event.next_attempt_at > now:
                report.waiting.append(event.id)
                if ticket_id is not None:
                    blocked.add(ticket_id)
            else:
                ready.append(event)
        return ready

    def _earliest_pending_elsewhere(self, events: Sequence[Event]) -> dict[int, int]:
        """For each ticket of the pass, its first pending event outside the pass (which holds back later ones)."""
        ticket_ids = {event.ticket_id for event in events if event.ticket_id is not None}
        if not ticket_ids:
            return {}
        with self.desk.db.reading() as session:
            query = (
                select(Event.ticket_id, func.min(Event.id))
                .where(
                    Event.state == EventState.PENDING,
                    Event.ticket_id.in_(ticket_ids),
                    Event.id.not_in([event.id for event in events]),
                )
                .group_by(Event.ticket_id)
            )
            return dict(session.execute(query).all())

    def _consumers(
        self, event: Event, retrying: dict[str, EventFailure]
    ) -> dict[str, Callable[[dict[str, Any]], None]]:
        """Who gets the event, by name: each plugin implementing its hook, and the automation engine.

        On a retry only the consumers that failed before (and did not give up) get it again.
        """
        consumers: dict[str, Callable[[dict[str, Any]], None]] = {}
        if hasattr(self.desk.plugins.pm.hook, event.hook_name):
            for impl in self.desk.plugins.calls.implementations(event.hook_name):
                consumers[impl.plugin_name] = partial(_call_hook, impl)
        if event.ticket_id is not None and self.desk.automation.listens_to(event.name):
            consumers[AUTOMATION] = _call_hook  # run for the whole pass by the engine, never called
        if retrying:
            consumers = {
                name: call for name, call in consumers.items() if name in retrying and not retrying[name].given_up
            }
        return consumers

    def _arguments(self, session: Session, events: Sequence[Event]) -> dict[int, dict[str, Any]]:
        """The hook arguments of each event: the event, its ticket (with tags and CCs), the actor, the desk."""
        ticket_ids = {event.ticket_id for event in events if event.ticket_id is not None}
        actor_ids = {event.actor_id for event in events if event.actor_id is not None}
        tickets = {}
        if ticket_ids:
            query = select(Ticket).where(Ticket.id.in_(ticket_ids))
            tickets = {
                t.id: t for t in session.scalars(query.options(selectinload(Ticket.tags), selectinload(Ticket.ccs)))
            }
        actors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
        return {
            event.id: {
                "event": event,
                "ticket": tickets.get(event.ticket_id) if event.ticket_id is not None else None,
                "actor": actors.get(event.actor_id) if event.actor_id is not None else None,
                "desk": self.desk,
            }
            for event in events
        }

    def _record(
        self,
        events: Sequence[Event],
        outcomes: dict[int, dict[str, str]],
        earlier: dict[int, dict[str, EventFailure]],
        now: datetime,
        report: DispatchReport,
    ) -> None:
        """Store how each delivered event went: delivered, retrying (with backoff) or failed."""
        clean = [e.id for e in events if e.id in outcomes and not outcomes[e.id] and e.id not in earlier]
        with self.desk.db.transaction() as session:
            if clean:  # the common case in one statement
                session.execute(
                    update(Event)
                    .where(Event.id.in_(clean))
                    .values(
                        state=EventState.DELIVERED.value,
                        delivered_at=now,
                        next_attempt_at=None,
                        attempts=Event.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                report.delivered.extend(clean)
            for event in events:
                if event.id not in outcomes or event.id in clean:
                    continue
                errors = outcomes[event.id]
                failures = {name: session.merge(f, load=False) for name, f in earlier.get(event.id, {}).items()}
                stored = session.merge(event, load=False)
                stored.attempts += 1
                for name, failure in list(failures.items()):
                    if name not in errors and not failure.given_up:  # succeeded on this retry
                        session.delete(failure)
                        del failures[name]
                for name, error in errors.items():
                    failure = failures.get(name)
                    if failure is None:
                        failure = failures[name] = EventFailure(event_id=event.id, plugin=name, attempts=0)
                        session.add(failure)
                    failure.attempts += 1
                    failure.error = error
                    failure.given_up = failure.attempts >= MAX_ATTEMPTS
                    log.error("%r failed to handle event %s #%d: %s", name, event.name, event.id, error)
                open_failures = [f for f in failures.values() if not f.given_up]
                if open_failures:
                    stored.next_attempt_at = now + backoff(max(f.attempts for f in open_failures))
                    report.retrying.append(event.id)
                    continue
                stored.next_attempt_at = None
                stored.delivered_at = now
                stored.state = EventState.FAILED.value if failures else EventState.DELIVERED.value
                (report.failed if failures else report.delivered).append(event.id)


def _failures(session: Session, event_ids: list[int]) -> dict[int, dict[str, EventFailure]]:
    """Earlier failures of these events, by event and consumer."""
    found: dict[int, dict[str, EventFailure]] = {}
    for failure in session.scalars(select(EventFailure).where(EventFailure.event_id.in_(event_ids))):
        found.setdefault(failure.event_id, {})[failure.plugin] = failure
    return found


def _call_hook(impl: Any, arguments: dict[str, Any]) -> None:
    impl.function(**{name: arguments[name] for name in impl.argnames})


def _run(call: Callable[[dict[str, Any]], None], arguments: dict[str, Any]) -> str | None:
    """Hand the event to one consumer; return the error text if it raised."""
    try:
        call(arguments)
    except Exception as exc:
        return "".join(traceback.format_exception_only(exc)).strip()
    return None
