"""Real SLA setups computed from a ticket's facts: weekends, holidays, pauses, reopening."""

from __future__ import annotations

from datetime import datetime

from frontdesk_sla.calendar import ALWAYS_OPEN, BusinessCalendar, CalendarSpec, parse_hours
from frontdesk_sla.clocks import AGENT_REPLY, CREATED, REQUESTER_REPLY, STATUS, Fact, Target, compute

OFFICE = BusinessCalendar(CalendarSpec("Europe/Berlin", parse_hours(["mon-fri 08:00-12:00,13:00-17:00"]), ("DE-BY",)))
ARITHMETIC = {True: OFFICE, False: ALWAYS_OPEN}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def by_metric(facts: list[Fact], targets: dict[str, Target], now: str) -> dict[tuple[str, int], object]:
    return {(c.metric, c.episode): c for c in compute(facts, targets, ARITHMETIC, at(now))}


def test_friday_afternoon_ticket_with_a_four_hour_target_is_due_monday_morning() -> None:
    clocks = by_metric(
        [Fact(at("2026-03-27T16:30:00+01:00"), CREATED)], {"first_response": Target(240)}, "2026-03-27T17:00:00+01:00"
    )
    clock = clocks[("first_response", 1)]
    assert clock.due_at == at("2026-03-30T11:30:00+02:00")  # across the weekend and the change to summer time
    assert clock.warn_at == at("2026-03-30T10:42:00+02:00")  # 80% of 240 minutes
    assert clock.state == "ok"
    assert clock.elapsed_minutes == 30


def test_holiday_monday_is_skipped() -> None:
    clocks = by_metric(
        [Fact(at("2026-04-02T16:00:00+02:00"), CREATED)], {"resolution": Target(480)}, "2026-04-02T16:00:00+02:00"
    )
    assert clocks[("resolution", 1)].due_at == at("2026-04-07T16:00:00+02:00")  # Good Friday and Easter Monday


def test_pending_over_a_weekend_pauses_the_clock() -> None:
    facts = [
        Fact(at("2026-06-11T10:00:00+02:00"), CREATED),
        Fact(at("2026-06-11T11:00:00+02:00"), AGENT_REPLY),
        Fact(at("2026-06-12T09:00:00+02:00"), STATUS, "pending", True),
        Fact(at("2026-06-15T10:00:00+02:00"), STATUS, "open", False),
    ]
    clock = by_metric(facts, {"resolution": Target(960)}, "2026-06-15T10:30:00+02:00")[("resolution", 1)]
    assert clock.due_at == at("2026-06-16T11:00:00+02:00")  # 7 h before the pause, 9 h after it
    assert clock.paused_minutes == 7 * 60 + 2 * 60  # Friday 09-17 (7 h) and Monday 08-10 (2 h)
    assert clock.elapsed_minutes == 7 * 60 + 30
    assert clock.state == "ok"


def test_a_clock_paused_before_its_target_has_no_due_time() -> None:
    facts = [
        Fact(at("2026-06-11T10:00:00+02:00"), CREATED),
        Fact(at("2026-06-11T11:00:00+02:00"), STATUS, "pending", True),
    ]
    clock = by_metric(facts, {"resolution": Target(480)}, "2026-06-20T10:00:00+02:00")[("resolution", 1)]
    assert clock.due_at is None
    assert clock.state == "paused"
    assert clock.elapsed_minutes == 60


def test_replies_fulfil_first_and_next_responses_and_solving_reopening_restart_resolution() -> None:
    facts = [
        Fact(at("2026-06-08T09:00:00+02:00"), CREATED),
        Fact(at("2026-06-08T09:30:00+02:00"), AGENT_REPLY),
        Fact(at("2026-06-08T10:00:00+02:00"), REQUESTER_REPLY),
        Fact(at("2026-06-08T14:30:00+02:00"), AGENT_REPLY),  # 3.5 business hours later: late for 2 h
        Fact(at("2026-06-08T15:00:00+02:00"), STATUS, "solved", False),
        Fact(at("2026-06-09T09:00:00+02:00"), STATUS, "open", False),
    ]
    targets = {"first_response": Target(60), "next_response": Target(120), "resolution": Target(600)}
    clocks = by_metric(facts, targets, "2026-06-09T10:00:00+02:00")
    assert clocks[("first_response", 1)].state == "fulfilled"
    late = clocks[("next_response", 1)]
    assert late.state == "breached"
    assert late.breached_at == at("2026-06-08T12:00:00+02:00")
    assert clocks[("resolution", 1)].state == "fulfilled"
    reopened = clocks[("resolution", 2)]
    assert reopened.started_at == at("2026-06-09T09:00:00+02:00")
    assert reopened.state == "ok"


def test_calendar_minutes_ignore_business_hours() -> None:
    clocks = by_metric(
        [Fact(at("2026-03-27T16:30:00+01:00"), CREATED)],
        {"resolution": Target(240, business=False)},
        "2026-03-27T21:00:00+01:00",
    )
    clock = clocks[("resolution", 1)]
    assert clock.due_at == at("2026-03-27T20:30:00+01:00")
    assert clock.state == "breached"
