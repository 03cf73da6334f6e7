"""Clocks follow ticket history through the event hooks; the scan sends warnings and breaches once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from frontdesk_sla import services, tracking
from frontdesk_sla.calendar import BusinessCalendar, CalendarSpec, parse_hours
from frontdesk_sla.models import SlaClock
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.models import Event
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, tickets


def clocks(desk: Desk, ticket_id: int) -> dict[tuple[str, int], SlaClock]:
    """The ticket's clock rows by (metric, episode), read in a transaction of their own."""
    with desk.db.reading() as session:
        rows = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id))
        return {(c.metric, c.episode): c for c in rows}


def sla_events(desk: Desk) -> list[tuple[str, int, str]]:
    with desk.db.reading() as session:
        rows = session.execute(
            select(Event.name, Event.ticket_id, Event.payload).where(Event.name.like("sla.%")).order_by(Event.id)
        )
        return [(name, ticket_id, payload["metric"]) for name, ticket_id, payload in rows]


def new_ticket(desk: Desk, **values: Any) -> Any:
    with desk.action(SYSTEM, source="test") as uow:
        return tickets.create_ticket(uow, {"subject": "Printer", "requester": "rita@example.com", **values})


def test_policy_order_and_conditions_choose_the_targets(desk: Desk, standard_policies: None) -> None:
    plain, vip = new_ticket(desk), new_ticket(desk, tags=["vip"])
    assert {key: c.target_minutes for key, c in clocks(desk, plain.id).items()} == {
        ("first_response", 1): 480,
        ("resolution", 1): 2880,
    }
    assert {key: c.target_minutes for key, c in clocks(desk, vip.id).items()} == {("first_response", 1): 30}
    due = clocks(desk, vip.id)[("first_response", 1)].due_at
    assert due == vip.created_at + timedelta(minutes=30)


def test_replies_and_pending_drive_the_clocks(desk: Desk, make_user: Any, standard_policies: None) -> None:
    agent = make_user(role="agent", all_groups=True)
    ticket = new_ticket(desk)
    with desk.action(agent, source="test") as uow:
        comments.add_comment(uow, ticket.id, {"body": "On it"})
    with desk.action(agent, source="test") as uow:
        tickets.update_ticket(uow, ticket.id, {"status": "pending"})
    found = clocks(desk, ticket.id)
    assert found[("first_response", 1)].state == "fulfilled"
    assert found[("resolution", 1)].state == "paused"
    assert found[("resolution", 1)].due_at is None
    with desk.action(ticket.requester, source="test") as uow:
        comments.add_comment(uow, ticket.id, {"body": "Here is the log"})
    found = clocks(desk, ticket.id)
    assert found[("resolution", 1)].state == "ok"
    assert found[("resolution", 1)].due_at is not None
    assert found[("next_response", 1)].state == "ok"
    assert found[("next_response", 1)].target_minutes == 240


def test_priority_raised_midway_recomputes_from_the_start_and_breaches_once(
    desk: Desk, standard_policies: None
) -> None:
    ticket = new_ticket(desk)
    start = ticket.created_at
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, ticket.id, {"priority": "urgent"})
    found = clocks(desk, ticket.id)[("first_response", 1)]
    assert found.target_minutes == 60
    assert found.due_at == start + timedelta(minutes=60)
    assert found.warn_at == start + timedelta(minutes=48)
    later = start + timedelta(minutes=50)
    with desk.action(SYSTEM, source="test") as uow:
        assert tracking.scan(uow, now=later)[:2] == (1, 0)  # first response at 80%
    much_later = start + timedelta(hours=2)
    for _ in range(2):
        with desk.action(SYSTEM, source="test") as uow:
            tracking.scan(uow, now=much_later)
    assert sla_events(desk) == [
        ("sla.warning", ticket.id, "first_response"),
        ("sla.breached", ticket.id, "first_response"),
    ]
    assert clocks(desk, ticket.id)[("first_response", 1)].breached_at == start + timedelta(minutes=60)


def test_editing_a_calendar_keeps_settled_outcomes_and_retimes_running_clocks(
    desk: Desk, office: dict[str, Any]
) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        services.save_calendar(uow, dict(office, hours=["24x7"]))
        services.save_policy(
            uow,
            {
                "name": "All",
                "calendar": "Office",
                "targets": [
                    {"priority": "normal", "metric": "first_response", "minutes": 60},
                    {"priority": "normal", "metric": "resolution", "minutes": 6000},
                ],
            },
        )
    ticket = new_ticket(desk)
    with desk.action(SYSTEM, source="test") as uow:
        tracking.scan(uow, now=ticket.created_at + timedelta(hours=2))
    before = clocks(desk, ticket.id)
    breached_due = before[("first_response", 1)].due_at
    assert before[("first_response", 1)].breached_at == breached_due
    with desk.action(SYSTEM, source="test") as uow:
        services.save_calendar(uow, dict(office, hours=["mon 09:00-10:00"]), "Office")
    after = clocks(desk, ticket.id)
    assert after[("first_response", 1)].due_at == breached_due, "a breach stays as it was"
    assert after[("first_response", 1)].state == "breached"
    assert after[("resolution", 1)].calendar_version == 2
    one_hour_a_week = BusinessCalendar(CalendarSpec("Europe/Berlin", parse_hours(["mon 09:00-10:00"]), ("DE-BY",)))
    assert after[("resolution", 1)].due_at == one_hour_a_week.add(ticket.created_at, 6000)


def test_status_cli_and_ticket_api_fields(
    desk: Desk, cli: Any, app: Any, client: Any, make_user: Any, standard_policies: None
) -> None:
    ticket = new_ticket(desk)
    result = cli("sla", "status", str(ticket.id), "--json")
    assert result.exit_code == 0, result.output
    assert '"metric": "first_response"' in result.output
    table = cli("sla", "status", str(ticket.id))
    assert "first_response #1" in table.output
    make_user(email="agent@example.com", role="agent", all_groups=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "agent@example.com", "password": "password123"})
    shown = client.get(f"/api/v1/tickets/{ticket.id}").json["extensions"]["sla"]
    assert shown["state"] == "ok"
    assert [c["metric"] for c in shown["clocks"]] == ["first_response", "resolution"]
    page = client.get(f"/agent/tickets/{ticket.id}")
    assert b'id="sla-panel"' in page.data


def test_editing_a_policy_retargets_open_tickets_from_their_start(
    desk: Desk, cli: Any, standard_policies: None
) -> None:
    ticket = new_ticket(desk)
    with desk.action(SYSTEM, source="test") as uow:
        services.save_policy(
            uow,
            {
                "name": "Standard",
                "targets": [{"priority": "normal", "metric": "first_response", "minutes": 120, "business": False}],
            },
            "Standard",
        )
    found = clocks(desk, ticket.id)
    assert set(found) == {("first_response", 1)}, "the dropped resolution target takes its running clock along"
    assert found[("first_response", 1)].due_at == ticket.created_at + timedelta(minutes=120)
    result = cli("sla", "recompute", "--open")
    assert result.exit_code == 0
    assert "Recomputed 1 ticket(s)." in result.output
    assert cli("sla", "recompute").exit_code != 0


def test_saving_an_unchanged_calendar_or_policy_queues_nothing_and_keeps_the_version(
    desk: Desk, office: dict[str, Any], standard_policies: None
) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        policy = services.get_policy(uow, "Standard")
        data = {
            "name": policy.name,
            "calendar": "Office",
            "conditions": policy.conditions,
            "targets": policy.targets,
            "pause_on": policy.pause_on,
        }
    with desk.action(SYSTEM, source="test") as uow:
        version = services.get_calendar(uow, "Office").version
        assert services.save_calendar(uow, dict(office), "Office").version == version
        services.save_policy(uow, data, "Standard")
        assert not uow.queued
    with desk.action(SYSTEM, source="test") as uow:
        assert services.save_calendar(uow, dict(office, holidays=[]), "Office").version == version + 1
        services.save_policy(uow, dict(data, pause_on=["on-hold"]), "Standard")
        assert sorted(record.name for record, _ in uow.queued) == ["sla.recompute_open", "sla.retime"]


def test_a_calendar_edit_leaves_calendar_minute_clocks_alone(
    desk: Desk, office: dict[str, Any], standard_policies: None
) -> None:
    ticket = new_ticket(desk)  # the Standard policy: calendar minutes on the Office calendar
    before = clocks(desk, ticket.id)
    assert before
    assert all(not row.business and row.calendar_version == 1 for row in before.values())
    with desk.action(SYSTEM, source="test") as uow:
        services.save_calendar(uow, dict(office, hours=["mon 09:00-10:00"]), "Office")
        assert tracking.retime(uow, services.get_calendar(uow, "Office").id) == 0
    after = clocks(desk, ticket.id)
    for key, row in before.items():
        assert (after[key].due_at, after[key].calendar_version, after[key].computed_at) == (
            row.due_at,
            1,
            row.computed_at,
        )
