"""Nightly housekeeping deletes what has served its time and keeps the desk's record."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select, update

from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.models import AutomationLogEntry, Event, EventState, HistoryEntry, Notification
from frontdesk.permissions import SYSTEM
from frontdesk.retention import Pruned, prune
from frontdesk.services import tickets


def count(desk: Desk, model: type) -> int:
    with desk.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_old_delivered_events_log_and_read_notifications_are_pruned(desk: Desk, make_user) -> None:  # type: ignore[no-untyped-def]
    agent = make_user(email="agent@example.com", role="agent", all_groups=True)
    with desk.action(SYSTEM, source="test") as uow:
        old = tickets.create_ticket(uow, {"subject": "Old", "requester": "rita@example.com"})
        tickets.update_ticket(uow, old.number, {"priority": "high"})
    with desk.db.transaction() as session:
        long_ago = utcnow() - timedelta(days=200)
        session.execute(update(Event).values(created_at=long_ago))
        session.add(AutomationLogEntry(ticket_id=old.id, trigger="t", outcomes=[], created_at=long_ago))
        session.add(Notification(user_id=agent.id, kind="k", subject="read", created_at=long_ago, read_at=long_ago))
        session.add(Notification(user_id=agent.id, kind="k", subject="unread", created_at=long_ago))
        pending = session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert pending is not None
        pending.state = EventState.PENDING.value
    with desk.action(SYSTEM, source="test") as uow:
        tickets.create_ticket(uow, {"subject": "New", "requester": "rita@example.com"})
    events_before, history_before = count(desk, Event), count(desk, HistoryEntry)

    pruned = prune(desk)

    assert pruned is not None
    assert pruned.automation_log == 1
    assert pruned.notifications == 1, "unread notifications stay, however old"
    assert pruned.events == events_before - 1 - 1, "a pending event and this week's event stay"
    assert count(desk, Event) == 2
    assert count(desk, HistoryEntry) == history_before, "the audit history is the desk's record"
    with desk.db.reading() as session:
        assert session.scalar(select(func.count()).where(HistoryEntry.event_id.is_(None))) > 0
    assert prune(desk) == Pruned(events=0, automation_log=0, notifications=0)


def test_retention_zero_keeps_everything(desk: Desk) -> None:
    desk.config = replace(desk.config, retention_days=0)
    assert prune(desk, now=utcnow() + timedelta(days=10_000)) is None


def test_the_prune_job_runs_nightly(desk: Desk) -> None:
    job = desk.jobs.job("housekeeping.prune")
    assert job.schedule is not None
