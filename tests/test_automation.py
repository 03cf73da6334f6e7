"""Automation: triggers, conditions, actions, loop protection, time rules, the log, YAML, macros, hooks."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from marshmallow import Schema, fields
from sqlalchemy import func, select

from frontdesk import hookimpl
from frontdesk.automation import ActionType, Field
from frontdesk.automation.conditions import compare
from frontdesk.automation.time_rules import run_time_rules
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import NotFound, PermissionDenied, ValidationError
from frontdesk.models import AutomationLogEntry, Notification, RuleFiring, Ticket, User
from frontdesk.notifications import Notice, NotificationChannel
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation, comments, escalation, macros, people, tickets


def rule(desk: Desk, **data: Any) -> int:
    data.setdefault("events", ["ticket.created"] if data.get("kind", "trigger") == "trigger" else [])
    with desk.action(SYSTEM, source="test") as uow:
        return automation.create_rule(uow, data).id


def create(desk: Desk, actor: Any = SYSTEM, **data: Any) -> Ticket:
    data = {"subject": "Printer on fire", "requester": "rita@example.com", **data}
    with desk.action(actor, source="test") as uow:
        return tickets.create_ticket(uow, data)


def show(desk: Desk, number: int) -> dict[str, Any]:
    with desk.reading(SYSTEM) as uow:
        ticket = tickets.get_ticket(uow, number)
        return {
            "status": ticket.status.name,
            "priority": ticket.priority.name,
            "group": ticket.group.name if ticket.group else None,
            "assignee": ticket.assignee.email if ticket.assignee else None,
            "tags": [t.name for t in ticket.tags],
            "comments": [(c.public, c.body) for c in comments_of(uow, ticket.id)],
        }


def comments_of(uow: Any, ticket_id: int) -> list[Any]:
    from frontdesk.models import Comment

    return list(uow.session.scalars(select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id)))


def log_of(desk: Desk, number: int) -> list[dict[str, Any]]:
    with desk.reading(SYSTEM) as uow:
        return automation.automation_log(uow, number)


@pytest.fixture
def groups(desk: Desk, make_user: Any) -> dict[str, User]:
    """Groups L1 -> L2 with two agents in L1 and one in L2."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "L1"})
        l2 = people.create_group(uow, {"name": "L2"})
        people.create_group(uow, {"name": "Network"})
        people.update_group(uow, people.find_group(uow, "L1").id, {"escalates_to": "L2"})
        assert l2.id
    agents = {
        "ann": make_user(email="ann@example.com", role="agent"),
        "bob": make_user(email="bob@example.com", role="agent"),
        "cem": make_user(email="cem@example.com", role="agent"),
    }
    with desk.action(SYSTEM, source="test") as uow:
        for name, group in (("ann", "L1"), ("bob", "L1"), ("cem", "L2")):
            people.add_member(uow, group, agents[name].email)
    return agents


# --- Triggers -------------------------------------------------------------------------------------


def test_a_trigger_routes_new_tickets_and_the_log_says_why(desk: Desk, groups: Any) -> None:
    rule(
        desk,
        name="Route VPN to Network",
        conditions=[{"field": "subject", "op": "contains", "value": "vpn"}],
        actions=[{"type": "set", "field": "group", "value": "Network"}, {"type": "add_tags", "tags": ["vpn"]}],
    )
    urgent = rule(
        desk,
        name="Urgent to L2",
        conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
        actions=[{"type": "set", "field": "group", "value": "L2"}],
    )
    routed = create(desk, subject="VPN keeps dropping")
    assert show(desk, routed.number)["group"] == "Network"
    assert show(desk, routed.number)["tags"] == ["vpn"]
    [entry] = log_of(desk, routed.number)
    assert entry["trigger"] == "ticket.created"
    assert entry["rules"][0] == {
        "rule": "Route VPN to Network",
        "matched": True,
        "why": "all conditions held",
        "done": ["set group to 'Network'", "added tags vpn"],
        "error": None,
    }
    assert entry["rules"][1]["matched"] is False
    assert entry["rules"][1]["why"] == "not met: priority is 'urgent' (was 'normal')"
    with desk.db.reading() as session:
        stored = session.scalars(select(AutomationLogEntry.outcomes)).one()
    assert {"screened": [urgent], "actual": "normal"} in stored, "rules screened out share one log entry"

    plain = create(desk, subject="Printer jam")
    assert show(desk, plain.number)["group"] is None


def test_a_failing_rule_is_logged_and_does_not_undo_the_others(desk: Desk, groups: Any) -> None:
    rule(desk, name="Bad assignee", actions=[{"type": "set", "field": "assignee", "value": "nobody@example.com"}])
    rule(desk, name="Tag it", actions=[{"type": "add_tags", "tags": ["seen"]}])
    ticket = create(desk)
    assert show(desk, ticket.number)["tags"] == ["seen"]
    [entry] = log_of(desk, ticket.number)
    assert entry["rules"][0]["error"] == "assignee: no user with e-mail 'nobody@example.com'"
    assert entry["rules"][1]["done"] == ["added tags seen"]


def test_rules_run_in_order_and_disabled_rules_do_not_run(desk: Desk) -> None:
    first = rule(desk, name="First", actions=[{"type": "add_tags", "tags": ["one"]}])
    rule(desk, name="Second", actions=[{"type": "add_tags", "tags": ["two"]}], enabled=False)
    with desk.action(SYSTEM, source="test") as uow:
        order = automation.move_rule(uow, first, 2)
    assert [r.name for r in order] == ["Second", "First"]
    ticket = create(desk)
    assert show(desk, ticket.number)["tags"] == ["one"]
    assert [line["rule"] for line in log_of(desk, ticket.number)[0]["rules"]] == ["First"]


def test_changed_conditions_see_the_event(desk: Desk, groups: Any) -> None:
    rule(
        desk,
        name="Escalated priority",
        events=["ticket.updated"],
        conditions=[{"field": "priority", "op": "changed_to", "value": "urgent"}],
        actions=[{"type": "add_note", "body": "Priority raised on {{ ticket.subject }}"}],
    )
    ticket = create(desk)
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, ticket.number, {"tags": ["x"]})
    assert show(desk, ticket.number)["comments"] == []
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, ticket.number, {"priority": "urgent"})
    assert show(desk, ticket.number)["comments"] == [(False, "<p>Priority raised on Printer on fire</p>")]


def test_comment_conditions_tell_requester_replies_from_agent_replies(desk: Desk, groups: Any) -> None:
    rule(
        desk,
        name="Requester replied",
        events=["ticket.commented"],
        conditions=[
            {"field": "comment.author", "op": "is", "value": "requester"},
            {"field": "comment.body", "op": "contains", "value": "thanks"},
        ],
        actions=[{"type": "add_tags", "tags": ["thanked"]}],
    )
    ticket = create(desk)
    requester = ticket.requester
    with desk.action(groups["ann"], source="test") as uow:
        comments.add_comment(uow, ticket.number, {"body": "thanks for waiting"})
    assert show(desk, ticket.number)["tags"] == []
    with desk.action(requester, source="test") as uow:
        comments.add_comment(uow, ticket.number, {"body": "Thanks, it works"})
    assert show(desk, ticket.number)["tags"] == ["thanked"]


def test_two_rules_undoing_each_other_stop_after_one_round(desk: Desk) -> None:
    rule(
        desk,
        name="Raise",
        events=["ticket.created", "ticket.updated"],
        conditions=[{"field": "priority", "op": "is", "value": "normal"}],
        actions=[{"type": "set", "field": "priority", "value": "high"}],
    )
    rule(
        desk,
        name="Lower",
        events=["ticket.updated"],
        conditions=[{"field": "priority", "op": "is", "value": "high"}],
        actions=[{"type": "set", "field": "priority", "value": "normal"}],
    )
    ticket = create(desk)
    assert show(desk, ticket.number)["priority"] == "normal"
    whys = [line["why"] for entry in log_of(desk, ticket.number) for line in entry["rules"]]
    assert "skipped: fired earlier in this chain" in whys
    fired = [line["rule"] for entry in log_of(desk, ticket.number) for line in entry["rules"] if line["done"]]
    assert sorted(fired) == ["Lower", "Raise"], "each rule fired once in the chain"


def test_chains_are_depth_limited(desk: Desk) -> None:
    for n in range(8):
        rule(
            desk,
            name=f"Step {n}",
            events=["ticket.created", "ticket.updated"],
            conditions=[{"field": "tags", "op": "not_contains", "value": f"s{n}"}],
            actions=[{"type": "add_tags", "tags": [f"s{n}"]}],
        )
    ticket = create(desk)
    tags = show(desk, ticket.number)["tags"]
    assert 0 < len(tags) <= 8
    whys = [line["why"] for entry in log_of(desk, ticket.number) for line in entry["rules"]]
    assert all("too long" not in why for why in whys[:8])


def test_a_redelivered_event_does_not_act_twice(desk: Desk) -> None:
    rule(desk, name="Note", actions=[{"type": "add_note", "body": "hello"}])
    ticket = create(desk)
    from frontdesk.models import Event

    with desk.db.reading() as session:
        event = session.scalar(select(Event).where(Event.name == "ticket.created"))
    desk.automation.handle_event(event)
    assert len(show(desk, ticket.number)["comments"]) == 1


# --- Conditions and actions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("is", "Open", "open", True),
        ("is", "open", "pending", False),
        ("is_not", "open", "pending", True),
        ("in", "High", ["high", "urgent"], True),
        ("not_in", "low", ["high", "urgent"], True),
        ("contains", "VPN down", "vpn", True),
        ("contains", ["a", "b"], "B", True),
        ("not_contains", ["a"], "b", True),
        ("contains", None, "x", False),
        ("present", None, None, False),
        ("present", ["a"], None, True),
        ("absent", [], None, True),
        ("gt", 72.5, 72, True),
        ("gt", 72, 72, False),
        ("gte", 72, 72, True),
        ("lt", 1, 72, True),
        ("lte", 72, 72, True),
        ("gt", None, 1, False),
    ],
)
def test_every_operator(op: str, actual: Any, expected: Any, result: bool) -> None:
    assert compare(op, actual, expected) is result


def test_changed_operators() -> None:
    changes = {"status": ["open", "pending"]}
    assert compare("changed", None, None, changes, "status")
    assert not compare("changed", None, None, changes, "priority")
    assert compare("changed_to", None, "Pending", changes, "status")
    assert compare("changed_from", None, "open", changes, "status")
    assert not compare("changed_from", None, "pending", changes, "status")


def test_rules_are_validated_with_errors_naming_the_field(desk: Desk) -> None:
    cases = [
        ({"conditions": [{"field": "colour", "op": "is", "value": "x"}]}, "conditions.0.field"),
        ({"conditions": [{"field": "tags", "op": "gt", "value": 1}]}, "conditions.0.op"),
        ({"conditions": [{"field": "hours_since_created", "op": "gt", "value": "soon"}]}, "conditions.0.value"),
        ({"conditions": [{"field": "status", "op": "in", "value": "open"}]}, "conditions.0.value"),
        ({"actions": [{"type": "explode"}]}, "actions.0"),
        ({"actions": [{"type": "set", "field": "colour", "value": "x"}]}, "actions.0.field"),
        ({"actions": [{"type": "add_note", "body": "{{ ticket.subject "}]}, "actions.0.body"),
        ({"actions": [{"type": "webhook", "url": "file:///etc/passwd"}]}, "actions.0.url"),
        ({"events": []}, "events"),
        ({"kind": "time", "events": [], "conditions": []}, "conditions"),
    ]
    for change, field in cases:
        data = {"name": "R", "events": ["ticket.created"], "actions": [{"type": "add_tags", "tags": ["x"]}], **change}
        with pytest.raises(ValidationError) as caught, desk.action(SYSTEM, source="test") as uow:
            automation.create_rule(uow, data)
        assert field in caught.value.errors, (change, caught.value.errors)
    rule(desk, name="Unique", actions=[{"type": "add_tags", "tags": ["x"]}])
    with pytest.raises(ValidationError, match="exists already"), desk.action(SYSTEM, source="test") as uow:
        automation.create_rule(
            uow, {"name": "unique", "events": ["ticket.created"], "actions": [{"type": "add_tags", "tags": ["y"]}]}
        )


def test_only_admins_manage_rules(desk: Desk, groups: Any, make_user: Any) -> None:
    with pytest.raises(PermissionDenied), desk.action(groups["ann"], source="test") as uow:
        automation.create_rule(
            uow, {"name": "R", "events": ["ticket.created"], "actions": [{"type": "add_tags", "tags": ["x"]}]}
        )
    admin = make_user(role="admin")
    with desk.action(admin, source="test") as uow:
        assert automation.create_rule(
            uow, {"name": "R", "events": ["ticket.created"], "actions": [{"type": "add_tags", "tags": ["x"]}]}
        ).id


def test_reply_and_notify_use_templates_and_reach_the_right_people(desk: Desk, groups: Any) -> None:
    rule(
        desk,
        name="Acknowledge",
        actions=[
            {"type": "reply", "body": "Hello {{ ticket.requester.name }}, we got #{{ ticket.number }}."},
            {"type": "notify", "to": ["requester", "group"], "template": "ticket.received"},
        ],
    )
    ticket = create(desk, group="L1", requester_name="Rita")
    assert show(desk, ticket.number)["comments"] == [(True, f"<p>Hello Rita, we got #{ticket.number}.</p>")]
    with desk.db.reading() as session:
        sent = session.execute(
            select(User.email, Notification.subject).join(User, User.id == Notification.user_id).order_by(User.email)
        ).all()
    assert [email for email, _ in sent] == ["ann@example.com", "bob@example.com", "rita@example.com"]
    assert sent[0][1] == f"[#{ticket.number}] We received your request: Printer on fire"


def test_notifications_to_one_person_are_rate_limited(desk: Desk, groups: Any) -> None:
    rule(
        desk,
        name="Chatty",
        events=["ticket.updated"],
        actions=[{"type": "notify", "to": ["assignee"], "template": "ticket.assigned"}],
    )
    ticket = create(desk, group="L1", assignee="ann@example.com")
    for n in range(15):
        with desk.action(SYSTEM, source="test") as uow:
            tickets.update_ticket(uow, ticket.number, {"add_tags": [f"t{n}"]})
    with desk.db.reading() as session:
        assert session.scalar(select(func.count(Notification.id))) == 10


def test_assign_round_robin_and_least_open(desk: Desk, groups: Any) -> None:
    rule(desk, name="Round robin", actions=[{"type": "assign", "strategy": "round_robin", "group": "L1"}])
    assigned = [show(desk, create(desk).number)["assignee"] for _ in range(4)]
    assert assigned == ["ann@example.com", "bob@example.com", "ann@example.com", "bob@example.com"]

    with desk.action(SYSTEM, source="test") as uow:
        automation.update_rule(uow, 1, {"actions": [{"type": "assign", "strategy": "least_open", "group": "L1"}]})
        tickets.update_ticket(uow, 1, {"status": "solved"})
        tickets.update_ticket(uow, 3, {"status": "solved"})
    # ann now has no open tickets, bob two
    assert show(desk, create(desk).number)["assignee"] == "ann@example.com"


def test_escalation_moves_up_one_level_and_notifies(desk: Desk, groups: Any) -> None:
    ticket = create(desk, group="L1", assignee="ann@example.com")
    with desk.action(groups["ann"], source="test") as uow:
        escalation.escalate(uow, ticket.number, "needs a network engineer")
    shown = show(desk, ticket.number)
    assert (shown["group"], shown["assignee"]) == ("L2", None)
    with desk.db.reading() as session:
        assert session.scalars(select(User.email).join(Notification, Notification.user_id == User.id)).all() == [
            "cem@example.com"
        ]
    with pytest.raises(ValidationError, match="no next level"), desk.action(groups["cem"], source="test") as uow:
        escalation.escalate(uow, ticket.number)
    with pytest.raises(ValidationError, match="loop back"), desk.action(SYSTEM, source="test") as uow:
        people.update_group(uow, people.find_group(uow, "L2").id, {"escalates_to": "L1"})

    rule(
        desk,
        name="Escalate urgent",
        events=["ticket.updated"],
        conditions=[{"field": "priority", "op": "changed_to", "value": "urgent"}],
        actions=[{"type": "escalate", "reason": "urgent"}],
    )
    other = create(desk, group="L1")
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, other.number, {"priority": "urgent"})
    assert show(desk, other.number)["group"] == "L2"


class Hook(BaseHTTPRequestHandler):
    received: list[Any] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_webhook_is_called_by_a_job(desk: Desk) -> None:
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        rule(desk, name="Tell the chat", actions=[{"type": "webhook", "url": url}])
        ticket = create(desk)
    finally:
        server.shutdown()
        server.server_close()
    assert Hook.received == [{"ticket": ticket.number, "subject": "Printer on fire"}]


# --- Time rules -------------------------------------------------------------------------------------


def time_rule(desk: Desk, hours: float, op: str = "gt", **extra: Any) -> int:
    return rule(
        desk,
        kind="time",
        name=extra.pop("name", "Remind pending"),
        conditions=[
            {"field": "status_category", "op": "is", "value": "pending"},
            {"field": "hours_since_status_changed", "op": op, "value": hours},
        ],
        actions=extra.pop("actions", [{"type": "add_tags", "tags": ["reminded"]}]),
    )


def pending_ticket(desk: Desk) -> Ticket:
    ticket = create(desk)
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, ticket.number, {"status": "pending"})
    with desk.reading(SYSTEM) as uow:
        return tickets.get_ticket(uow, ticket.number)


def test_a_time_rule_acts_after_the_threshold_and_not_at_it(desk: Desk) -> None:
    time_rule(desk, 72)
    ticket = pending_ticket(desk)
    entered = ticket.status_changed_at
    assert run_time_rules(desk, entered + timedelta(hours=72)).acted == {"Remind pending": []}
    report = run_time_rules(desk, entered + timedelta(hours=72, seconds=1))
    assert report.acted == {"Remind pending": [ticket.number]}
    assert show(desk, ticket.number)["tags"] == ["reminded"]
    log = log_of(desk, ticket.number)
    assert log[0]["trigger"] == "time rule"
    assert log[0]["rules"][0]["done"] == ["added tags reminded"]


def test_gte_acts_exactly_at_the_threshold(desk: Desk) -> None:
    time_rule(desk, 72, op="gte")
    ticket = pending_ticket(desk)
    assert run_time_rules(desk, ticket.status_changed_at + timedelta(hours=72)).acted["Remind pending"] == [1]


def test_a_time_rule_acts_once_per_episode(desk: Desk) -> None:
    time_rule(desk, 72)
    ticket = pending_ticket(desk)
    later = ticket.status_changed_at + timedelta(days=4)
    assert run_time_rules(desk, later).acted["Remind pending"] == [ticket.number]
    assert run_time_rules(desk, later + timedelta(days=1)).acted["Remind pending"] == [], "same stay in pending"
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, ticket.number, {"status": "open"})
        tickets.update_ticket(uow, ticket.number, {"status": "pending"})
    with desk.reading(SYSTEM) as uow:
        again = tickets.get_ticket(uow, ticket.number).status_changed_at
    assert run_time_rules(desk, again + timedelta(days=4)).acted["Remind pending"] == [ticket.number]
    with desk.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(RuleFiring)) == 2


def test_time_rules_solve_then_close(desk: Desk) -> None:
    time_rule(desk, 24 * 7, name="Solve stale pending", actions=[{"type": "set", "field": "status", "value": "solved"}])
    ticket = pending_ticket(desk)
    run_time_rules(desk, ticket.status_changed_at + timedelta(days=8))
    assert show(desk, ticket.number)["status"] == "solved"
    rule(
        desk,
        kind="time",
        name="Close solved",
        conditions=[
            {"field": "status_category", "op": "is", "value": "solved"},
            {"field": "hours_since_status_changed", "op": "gt", "value": 96},
        ],
        actions=[{"type": "set", "field": "status", "value": "closed"}],
    )
    with desk.reading(SYSTEM) as uow:
        solved_at = tickets.get_ticket(uow, ticket.number).status_changed_at
    run_time_rules(desk, solved_at + timedelta(hours=95))
    assert show(desk, ticket.number)["status"] == "solved"
    run_time_rules(desk, solved_at + timedelta(hours=97))
    assert show(desk, ticket.number)["status"] == "closed"


def test_automation_run_cli_accepts_a_time(desk: Desk, cli: Any) -> None:
    time_rule(desk, 72)
    ticket = pending_ticket(desk)
    moment = (ticket.status_changed_at + timedelta(days=4)).replace(tzinfo=None).isoformat(timespec="minutes")
    result = cli("automation", "run", "--now", moment)
    assert result.output.strip() == f"Remind pending: checked 1, acted on 1: #{ticket.number}"
    assert cli("automation", "run", "--now", moment).output.strip() == "Remind pending: checked 0, acted on 0"
    bad = cli("automation", "run", "--now", "tomorrow")
    assert bad.exit_code == 2
    assert "is not an ISO date and time" in bad.output


def test_dry_run_lists_matching_open_tickets_without_acting(desk: Desk, cli: Any) -> None:
    rule(
        desk,
        name="Printers",
        conditions=[{"field": "subject", "op": "contains", "value": "printer"}],
        actions=[{"type": "add_tags", "tags": ["printer"]}],
        enabled=False,
    )
    first = create(desk, subject="Printer jam")
    create(desk, subject="Mail down")
    with desk.reading(SYSTEM) as uow:
        found = automation.dry_run(
            uow,
            {
                "kind": "trigger",
                "events": ["ticket.created"],
                "conditions": [{"field": "subject", "op": "contains", "value": "printer"}],
            },
        )
    assert [t.number for t in found] == [first.number]
    assert cli("automation", "dry-run", "Printers").output.strip() == f"#{first.number}  Printer jam"
    assert show(desk, first.number)["tags"] == []


# --- Configuration as code ---------------------------------------------------------------------------


def test_yaml_export_import_round_trip_is_byte_stable(desk: Desk, groups: Any, cli: Any, tmp_path: Any) -> None:
    rule(
        desk,
        name="Route VPN",
        conditions=[{"field": "subject", "op": "contains", "value": "vpn"}],
        actions=[{"type": "set", "field": "group", "value": "Network"}],
    )
    time_rule(desk, 72)
    with desk.action(SYSTEM, source="test") as uow:
        macros.create_macro(uow, {"name": "Thanks", "body": "Thanks {{ ticket.requester.name }}!", "shared": True})
    first = cli("automation", "export").output
    assert cli("automation", "export").output == first
    assert "Route VPN" in first
    assert "time_rules:" in first

    with desk.action(SYSTEM, source="test") as uow:
        for each in automation.list_rules(uow):
            automation.delete_rule(uow, each.id)
    path = tmp_path / "rules.yaml"
    path.write_text(first)
    assert cli("automation", "import", str(path)).output.strip() == "Created 2, updated 0, deleted 0."
    assert cli("automation", "export").output == first
    assert cli("automation", "import", str(path)).output.strip() == "Created 0, updated 0, deleted 0."


def test_an_invalid_file_changes_nothing_and_names_the_rule(desk: Desk, cli: Any, tmp_path: Any) -> None:
    rule(desk, name="Keep me", actions=[{"type": "add_tags", "tags": ["x"]}])
    path = tmp_path / "rules.yaml"
    path.write_text(
        "triggers:\n"
        "- name: Fine\n  events: [ticket.created]\n  actions: [{type: add_tags, tags: [a]}]\n"
        "- name: Broken\n  events: [ticket.created]\n  conditions: [{field: status, op: bigger, value: x}]\n"
        "  actions: [{type: add_tags, tags: [b]}]\n"
    )
    result = cli("automation", "import", str(path), "--replace")
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: triggers[2] 'Broken'.conditions.0.op: 'bigger' does not apply")
    with desk.reading(SYSTEM) as uow:
        assert [r.name for r in automation.list_rules(uow)] == ["Keep me"]
    path.write_text("triggers: [unclosed\n")
    assert "not valid YAML at line" in cli("automation", "import", str(path)).output


# --- Macros -----------------------------------------------------------------------------------------


def test_a_macro_replies_with_placeholders_and_changes_fields(desk: Desk, groups: Any) -> None:
    ann = groups["ann"]
    with desk.action(ann, source="test") as uow:
        macro = macros.create_macro(
            uow,
            {
                "name": "Need more info",
                "body": "Hi {{ ticket.requester.name }}, could you send a screenshot? — {{ agent.name }}",
                "actions": [
                    {"type": "set", "field": "status", "value": "pending"},
                    {"type": "add_tags", "tags": ["info"]},
                ],
            },
        )
    ticket = create(desk, group="L1", requester_name="Rita")
    with desk.action(ann, source="test") as uow:
        macros.apply_macro(uow, macro.id, ticket.number)
    shown = show(desk, ticket.number)
    assert shown["status"] == "pending"
    assert shown["tags"] == ["info"]
    assert shown["comments"] == [(True, f"<p>Hi Rita, could you send a screenshot? — {ann.name}</p>")]


def test_personal_macros_stay_personal_and_shared_ones_need_an_admin(desk: Desk, groups: Any) -> None:
    with desk.action(groups["ann"], source="test") as uow:
        mine = macros.create_macro(uow, {"name": "Mine", "body": "hello"})
    with desk.reading(groups["bob"]) as uow:
        assert macros.list_macros(uow) == []
        with pytest.raises(NotFound):
            macros.get_macro(uow, mine.id)
    with pytest.raises(PermissionDenied), desk.action(groups["bob"], source="test") as uow:
        macros.create_macro(uow, {"name": "Ours", "body": "hello", "shared": True})
    with (
        pytest.raises(ValidationError, match="a text or at least one action"),
        desk.action(groups["bob"], source="test") as uow,
    ):
        macros.create_macro(uow, {"name": "Empty"})
    with pytest.raises(ValidationError), desk.action(groups["bob"], source="test") as uow:
        macros.create_macro(uow, {"name": "Notify", "actions": [{"type": "webhook", "url": "http://x"}]})


def test_requesters_cannot_use_macros(desk: Desk, make_user: Any) -> None:
    requester = make_user(role="requester")
    with pytest.raises(PermissionDenied), desk.reading(requester) as uow:
        macros.list_macros(uow)


# --- Plugin hooks ------------------------------------------------------------------------------------


class Weather:
    """A plugin with a condition field, an action type and a notification channel."""

    NAME = "weather"

    def __init__(self) -> None:
        self.delivered: list[Notice] = []

    @hookimpl
    def frontdesk_automation_fields(self) -> list[Field]:
        return [Field("weather.stormy", "stormy outside", "boolean", lambda ctx: "storm" in ctx.ticket.subject.lower())]

    @hookimpl
    def frontdesk_automation_actions(self) -> list[ActionType]:
        class Forecast(Schema):
            days = fields.Integer(required=True)

        def perform(ctx: Any, params: dict[str, Any]) -> str:
            tickets.update_ticket(ctx.uow, ctx.ticket.number, {"add_tags": [f"forecast-{params['days']}d"]})
            return f"forecast for {params['days']} days"

        return [ActionType("weather.forecast", "Add a forecast", Forecast, perform)]

    @hookimpl
    def frontdesk_notification_channels(self) -> list[NotificationChannel]:
        return [NotificationChannel("pigeon", "Carrier pigeon", lambda desk, notice: self.delivered.append(notice))]


@pytest.fixture
def weather() -> Weather:
    return Weather()


@pytest.mark.frontdesk_plugins("webui")
def test_hook_frontdesk_automation_fields_and_actions_extend_rules(desk: Desk, register_plugin: Any) -> None:
    register_plugin(Weather(), "weather")
    fresh = Desk(desk.config, plugins=["webui", Weather()])
    try:
        rule(
            fresh,
            name="Storm",
            conditions=[{"field": "weather.stormy", "op": "is", "value": True}],
            actions=[{"type": "weather.forecast", "days": 3}],
        )
        with pytest.raises(ValidationError) as caught, fresh.action(SYSTEM, source="test") as uow:
            automation.create_rule(
                uow,
                {
                    "name": "Bad",
                    "events": ["ticket.created"],
                    "actions": [{"type": "weather.forecast", "days": "soon"}],
                },
            )
        assert "actions.0.days" in caught.value.errors
        stormy = create(fresh, subject="Storm took the line down")
        calm = create(fresh, subject="Calm day")
        assert show(fresh, stormy.number)["tags"] == ["forecast-3d"]
        assert show(fresh, calm.number)["tags"] == []
    finally:
        fresh.close()


def test_hook_frontdesk_automation_actions_of_a_disabled_plugin_stop_matching(desk: Desk) -> None:
    fresh = Desk(desk.config, plugins=["webui", Weather()])
    try:
        rule(
            fresh,
            name="Storm",
            conditions=[{"field": "weather.stormy", "op": "is", "value": True}],
            actions=[{"type": "add_tags", "tags": ["storm"]}],
        )
    finally:
        fresh.close()
    ticket = create(desk, subject="Storm")  # the desk without the weather plugin ignores the rule
    assert show(desk, ticket.number)["tags"] == []


def test_hook_frontdesk_notification_channels_get_each_notice_after_commit(desk: Desk, groups: Any) -> None:
    weather = Weather()
    fresh = Desk(desk.config, plugins=["webui", weather])
    try:
        rule(fresh, name="Ack", actions=[{"type": "notify", "to": ["requester"], "template": "ticket.received"}])
        ticket = create(fresh, requester_name="Rita")
    finally:
        fresh.close()
    [notice] = weather.delivered
    assert (notice.email, notice.kind, notice.ticket_id) == ("rita@example.com", "ticket.received", ticket.id)
    assert notice.body.startswith("Hello Rita,")


def test_notification_templates_can_be_reworded_and_reset(desk: Desk) -> None:
    from frontdesk import notifications

    with desk.action(SYSTEM, source="test") as uow:
        notifications.set_template(uow, "ticket.received", "Got it: {{ ticket.subject }}", "Thanks!")
        with pytest.raises(ValidationError, match="not a valid template"):
            notifications.set_template(uow, "ticket.received", "{{ broken", "x")
    rule(desk, name="Ack", actions=[{"type": "notify", "to": ["requester"], "template": "ticket.received"}])
    create(desk)
    with desk.db.reading() as session:
        assert session.scalars(select(Notification.subject)).all() == ["Got it: Printer on fire"]
    with desk.action(SYSTEM, source="test") as uow:
        notifications.reset_template(uow, "ticket.received")
        assert notifications.template_for(uow, "ticket.received").subject.startswith("[#")


def test_time_rule_reply_clocks_follow_comments(desk: Desk, groups: Any) -> None:
    ticket = create(desk, group="L1")
    with desk.action(groups["ann"], source="test") as uow:
        comments.add_comment(uow, ticket.number, {"body": "On it"})
    with desk.action(ticket.requester, source="test") as uow:
        comments.add_comment(uow, ticket.number, {"body": "Thanks"})
    with desk.reading(SYSTEM) as uow:
        stored = tickets.get_ticket(uow, ticket.number)
        assert stored.last_agent_reply_at is not None
        assert stored.last_requester_reply_at is not None
        assert stored.last_requester_reply_at >= stored.last_agent_reply_at
    assert utcnow() - stored.last_requester_reply_at < timedelta(minutes=1)


def test_the_rule_index_matches_exactly_what_evaluating_every_rule_matches(desk: Desk, groups: Any) -> None:
    """Screening rules by their guards is an optimisation only: it must never change which rules match."""
    import random

    from frontdesk.automation.conditions import Context
    from frontdesk.models import Event

    rng = random.Random(7)  # noqa: S311 (test data)
    values = {
        "status": ["new", "open", "pending"],
        "priority": ["low", "normal", "high", "urgent"],
        "group": ["L1", "L2", "Network"],
        "tags": ["vip", "billing", "vpn"],
        "subject": ["printer", "vpn", "mail"],
    }

    def condition() -> dict[str, Any]:
        field = rng.choice(list(values))
        if field == "tags":
            return {"field": field, "op": rng.choice(["contains", "not_contains"]), "value": rng.choice(values[field])}
        if field == "subject":
            return {"field": field, "op": "contains", "value": rng.choice(values[field])}
        op = rng.choice(["is", "is_not", "in", "changed_to"])
        value: Any = rng.sample(values[field], 2) if op == "in" else rng.choice(values[field])
        return {"field": field, "op": op, "value": value}

    for n in range(60):
        rule(
            desk,
            name=f"Random {n}",
            events=["ticket.updated"],
            match=rng.choice(["all", "all", "any"]),
            conditions=[condition() for _ in range(rng.randint(1, 3))],
            actions=[{"type": "add_tags", "tags": ["x"]}],
            enabled=True,
        )
    numbers = []
    for n in range(30):
        numbers.append(
            create(
                desk,
                subject=f"{rng.choice(values['subject'])} trouble {n}",
                group=rng.choice(values["group"]),
                priority=rng.choice(values["priority"]),
                tags=rng.sample(values["tags"], rng.randint(0, 2)),
            ).number
        )
    rules = desk.automation.listening("ticket.updated")
    assert len(rules) == 60
    assert desk.automation.screen("ticket.updated").index, "most random rules have a guard"
    matched = 0
    with desk.db.reading() as session:
        for number in numbers:
            ticket = session.get(Ticket, number)
            change = {"priority": ["normal", rng.choice(values["priority"])]}
            event = Event(id=10_000 + number, name="ticket.updated", ticket_id=number, payload={"changes": change})
            screened = desk.automation._plan(event, Context(desk, ticket, utcnow(), event))
            everything = [r.id for r in rules if r.evaluate(Context(desk, ticket, utcnow(), event))[0]]
            assert [r.id for r in screened.matched] == everything
            matched += len(everything)
    assert matched > 0


def test_a_new_desk_notifies_people_with_the_default_rules(desk: Desk, groups: Any) -> None:
    from frontdesk.automation.config_file import install_defaults

    with desk.action(SYSTEM, source="test") as uow:
        assert install_defaults(uow) == {"created": 9, "updated": 0, "deleted": 0}
    ann = groups["ann"]

    def inbox() -> list[tuple[str, str]]:
        with desk.db.reading() as session:
            rows = session.execute(
                select(User.email, Notification.kind)
                .join(User, User.id == Notification.user_id)
                .order_by(Notification.id)
            )
            return [tuple(row) for row in rows]

    ticket = create(desk, group="L1", requester_name="Rita")
    assert inbox() == [
        ("rita@example.com", "ticket.received"),
        ("ann@example.com", "ticket.new_in_group"),
        ("bob@example.com", "ticket.new_in_group"),
    ]
    with desk.action(ann, source="test") as uow:
        tickets.update_ticket(uow, ticket.number, {"assignee": "ann@example.com"})
    assert len(inbox()) == 3, "assigning yourself tells nobody"
    with desk.action(ann, source="test") as uow:
        comments.add_comment(uow, ticket.number, {"body": "Try turning it off and on."})
    with desk.action(ticket.requester, source="test") as uow:
        comments.add_comment(uow, ticket.number, {"body": "That worked!"})
    with desk.action(ann, source="test") as uow:
        tickets.update_ticket(uow, ticket.number, {"status": "solved"})
    assert inbox()[3:] == [
        ("rita@example.com", "ticket.agent_replied"),
        ("ann@example.com", "ticket.requester_replied"),
        ("rita@example.com", "ticket.solved"),
    ]
    with desk.db.reading() as session:
        reply = session.scalars(select(Notification.body).where(Notification.kind == "ticket.agent_replied")).one()
    assert "Try turning it off and on." in reply
    with desk.reading(SYSTEM) as uow:
        solved_at = tickets.get_ticket(uow, ticket.number).status_changed_at
    run_time_rules(desk, solved_at + timedelta(hours=97))
    assert show(desk, ticket.number)["status"] == "closed"


@pytest.mark.parametrize(
    ("condition", "ticket", "expected"),
    [
        ({"field": "organization", "op": "is", "value": "ACME"}, {"requester": "amy@acme.example"}, True),
        ({"field": "organization", "op": "absent"}, {}, True),
        ({"field": "channel", "op": "is", "value": "test"}, {}, True),
        ({"field": "type", "op": "is", "value": "incident"}, {"type": "incident"}, True),
        ({"field": "type", "op": "absent"}, {}, True),
        ({"field": "description", "op": "contains", "value": "smoke"}, {"body": "There is <b>smoke</b>"}, True),
        ({"field": "requester", "op": "is", "value": "RITA@example.com"}, {}, True),
        (
            {"field": "assignee", "op": "is", "value": "ann@example.com"},
            {"assignee": "ann@example.com", "group": "L1"},
            True,
        ),
        ({"field": "status", "op": "in", "value": ["open", "new"]}, {}, True),
        ({"field": "event", "op": "is", "value": "ticket.created"}, {}, True),
        ({"field": "hours_since_created", "op": "lt", "value": 1}, {}, True),
        ({"field": "hours_since_agent_reply", "op": "present"}, {}, False),
        ({"field": "comment.public", "op": "is", "value": True}, {}, False),
    ],
)
def test_every_core_field_can_decide_a_rule(
    desk: Desk, groups: Any, condition: dict[str, Any], ticket: dict[str, Any], expected: bool
) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_organization(uow, {"name": "ACME"})
        people.create_user(uow, {"email": "amy@acme.example", "name": "Amy", "organization": "ACME"})
    rule(desk, name="Probe", conditions=[condition], actions=[{"type": "add_tags", "tags": ["probed"]}])
    number = create(desk, **ticket).number
    assert (show(desk, number)["tags"] == ["probed"]) is expected
