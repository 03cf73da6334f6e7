"""The hooks the SLA plugin offers and the events it sends: policy choice, warnings and breaches, triggers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from frontdesk_sla import conditions, tracking
from frontdesk_sla.models import SlaClock
from sqlalchemy import select

from frontdesk import hookimpl
from frontdesk.automation import Context
from frontdesk.desk import Desk
from frontdesk.models import Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation, tickets


class Chooser:
    """Puts tickets from the API channel under the round-the-clock policy, whatever their tags."""

    @hookimpl
    def frontdesk_sla_policy_for(self, ticket: Any, policies: list[Any]) -> Any:
        return "Round the clock" if ticket.channel == "api" else None


class Listener:
    """Records the SLA events it is given."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, str]] = []

    @hookimpl
    def frontdesk_sla_warning(self, event: Any, ticket: Any) -> None:
        self.seen.append(("warning", ticket.id, event.payload["metric"]))

    @hookimpl
    def frontdesk_sla_breached(self, event: Any, ticket: Any) -> None:
        self.seen.append(("breached", ticket.id, event.payload["metric"]))


def create(desk: Desk, **values: Any) -> Ticket:
    with desk.action(SYSTEM, source="test") as uow:
        return tickets.create_ticket(uow, {"subject": "Printer", "requester": "rita@example.com", **values})


def targets(desk: Desk, ticket_id: int) -> set[tuple[str, float]]:
    with desk.db.reading() as session:
        rows = session.execute(select(SlaClock.metric, SlaClock.target_minutes).where(SlaClock.ticket_id == ticket_id))
        return {(metric, minutes) for metric, minutes in rows}


def test_another_plugin_can_choose_the_policy(desk: Desk, register_plugin: Any, standard_policies: None) -> None:
    register_plugin(Chooser(), "chooser")
    assert targets(desk, create(desk, channel="api").id) == {("first_response", 30)}
    assert targets(desk, create(desk, channel="web").id) == {("first_response", 480), ("resolution", 2880)}


def test_warnings_and_breaches_reach_other_plugins_once(
    desk: Desk, register_plugin: Any, standard_policies: None
) -> None:
    listener = register_plugin(Listener(), "listener")
    ticket = create(desk, priority="urgent")
    for minutes in (50, 50, 61, 61, 300):
        with desk.action(SYSTEM, source="test") as uow:
            tracking.scan(uow, now=ticket.created_at + timedelta(minutes=minutes))
    assert listener.seen == [
        ("warning", ticket.id, "first_response"),
        ("breached", ticket.id, "first_response"),
        ("breached", ticket.id, "resolution"),  # its warning is moot once it is breached
    ]


def test_a_trigger_escalates_a_breached_ticket(desk: Desk, standard_policies: None) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        automation.create_rule(
            uow,
            {
                "name": "Escalate breaches",
                "events": ["sla.breached"],
                "conditions": [
                    {"field": "sla.metric", "op": "is", "value": "first_response"},
                    {"field": "sla.state", "op": "is", "value": "breached"},
                ],
                "actions": [
                    {"type": "set", "field": "priority", "value": "urgent"},
                    {"type": "add_tags", "tags": ["sla-breached"]},
                ],
            },
        )
    ticket = create(desk)
    with desk.action(SYSTEM, source="test") as uow:  # the warning alone does not match
        tracking.scan(uow, now=ticket.created_at + timedelta(hours=7))
    with desk.db.reading() as session:
        assert session.get(Ticket, ticket.id).priority.name == "normal"
    with desk.action(SYSTEM, source="test") as uow:
        tracking.scan(uow, now=ticket.created_at + timedelta(days=7))
    with desk.db.reading() as session:
        changed = session.get(Ticket, ticket.id)
        assert changed.priority.name == "urgent"
        assert [tag.name for tag in changed.tags] == ["sla-breached"]
    breached = {("first_response", 480), ("resolution", 2880)}
    assert targets(desk, ticket.id) == breached, "breached clocks keep their outcome when the priority changes"


def test_minutes_left_counts_down_to_the_soonest_due_time(desk: Desk, standard_policies: None) -> None:
    ticket = create(desk, priority="urgent")
    with desk.db.reading() as session:
        loaded = session.get(Ticket, ticket.id)
        at = ticket.created_at + timedelta(minutes=45)
        assert conditions.minutes_left(Context(desk=desk, ticket=loaded, now=at)) == 15
        assert conditions.state(Context(desk=desk, ticket=loaded, now=at)) == "ok"
        late = Context(desk=desk, ticket=loaded, now=ticket.created_at + timedelta(minutes=90))
        assert conditions.minutes_left(late) == -30
        assert conditions.event_metric(late) is None
