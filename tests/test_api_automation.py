"""The automation API: rules, dry runs, YAML, the log, macros, escalation, notifications, templates and jobs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from frontdesk.desk import Desk
from frontdesk.jobs import Job
from frontdesk.models import Comment, JobRecord, Macro, Rule, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tickets, tokens

API = "/api/v1"
VPN_RULE = {
    "name": "Route VPN",
    "events": ["ticket.created"],
    "conditions": [{"field": "subject", "op": "contains", "value": "vpn"}],
    "actions": [{"type": "add_tags", "tags": ["vpn"]}],
}


@pytest.fixture
def cast(desk: Desk, make_user: Any) -> dict[str, User]:
    """Support levels L1 -> L2 and a separate Network group; an admin, agents in each, a requester."""
    with desk.action(SYSTEM, source="test") as uow:
        for name in ("L1", "L2", "Network"):
            people.create_group(uow, {"name": name})
        people.update_group(uow, people.find_group(uow, "L1").id, {"escalates_to": "L2"})
    return {
        "admin": make_user(email="ada@example.com", name="Ada", role="admin"),
        "agent": make_user(email="ann@example.com", name="Ann", role="agent", groups=["L1"]),
        "second": make_user(email="sam@example.com", name="Sam", role="agent", groups=["L2"]),
        "outsider": make_user(email="otto@example.com", name="Otto", role="agent", groups=["Network"]),
        "rita": make_user(email="rita@example.com", name="Rita"),
    }


@pytest.fixture
def as_(desk: Desk, cast: dict[str, User]) -> Any:
    """``as_("agent")``: Authorization headers of a bearer token for that person (admins: admin scope)."""
    cache: dict[tuple[str, str], dict[str, str]] = {}

    def headers(who: str, scope: str | None = None) -> dict[str, str]:
        scope = scope or ("admin" if who == "admin" else "write")
        if (who, scope) not in cache:
            with desk.action(SYSTEM, source="test") as uow:
                secret = tokens.create_token(uow, {"user": cast[who].email, "scope": scope, "name": scope})[1]
            cache[who, scope] = {"Authorization": f"Bearer {secret}"}
        return cache[who, scope]

    return headers


def ticket(desk: Desk, subject: str = "Printer on fire", group: str | None = "L1", **data: Any) -> int:
    """A ticket from Rita (in L1 unless told otherwise); its number."""
    status = data.pop("status", None)
    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(
            uow, {"subject": subject, "requester": "rita@example.com", "group": group, **data}
        ).id
    if status is not None:
        with desk.action(SYSTEM, source="test") as uow:
            tickets.update_ticket(uow, number, {"status": status})
    return number


def count(desk: Desk, model: Any) -> int:
    with desk.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def create_rule(client: Any, headers: dict[str, str], **data: Any) -> dict[str, Any]:
    response = client.post(f"{API}/automation/rules", json={**VPN_RULE, **data}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


# --- Rules ----------------------------------------------------------------------------------------


def test_admins_create_list_change_move_and_delete_rules(client: Any, as_: Any) -> None:
    admin = as_("admin")
    created = client.post(f"{API}/automation/rules", json=VPN_RULE, headers=admin)
    assert created.status_code == 201, created.json
    rule = created.json
    assert created.headers["Location"] == f"/api/v1/automation/rules/{rule['id']}"
    assert {key: rule[key] for key in ("name", "kind", "enabled", "match", "position", "description")} == {
        "name": "Route VPN",
        "kind": "trigger",
        "enabled": True,
        "match": "all",
        "position": 1,
        "description": "",
    }
    assert rule["conditions"] == VPN_RULE["conditions"]
    second = create_rule(client, admin, name="Tag all", conditions=[])
    waiting = create_rule(
        client,
        admin,
        name="Remind",
        kind="time",
        events=[],
        conditions=[{"field": "hours_since_updated", "op": "gt", "value": 48}],
    )
    assert second["position"] == 2
    assert waiting["position"] == 1, "each kind has its own order"

    listed = client.get(f"{API}/automation/rules", headers=admin).json
    assert [r["name"] for r in listed] == ["Route VPN", "Tag all", "Remind"], "triggers first, in order"
    only_time = client.get(f"{API}/automation/rules?kind=time", headers=admin).json
    assert [r["name"] for r in only_time] == ["Remind"]
    assert client.get(f"{API}/automation/rules?kind=weekly", headers=admin).status_code == 422

    changed = client.patch(
        f"{API}/automation/rules/{rule['id']}", json={"enabled": False, "description": "Off"}, headers=admin
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["enabled"], changed.json["description"], changed.json["name"]) == (False, "Off", "Route VPN")
    assert client.get(f"{API}/automation/rules/{rule['id']}", headers=admin).json["enabled"] is False

    moved = client.post(f"{API}/automation/rules/{second['id']}/move", json={"position": 1}, headers=admin)
    assert moved.status_code == 200, moved.json
    assert [(r["name"], r["position"]) for r in moved.json] == [("Tag all", 1), ("Route VPN", 2)]
    out_of_range = client.post(f"{API}/automation/rules/{second['id']}/move", json={"position": 3}, headers=admin)
    assert (out_of_range.status_code, out_of_range.json["errors"]) == (422, {"position": ["must be between 1 and 2"]})

    assert client.delete(f"{API}/automation/rules/{rule['id']}", headers=admin).status_code == 204
    gone = client.get(f"{API}/automation/rules/{rule['id']}", headers=admin)
    assert (gone.status_code, gone.json["code"]) == (404, "not_found")
    assert client.delete(f"{API}/automation/rules/{rule['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"conditions": [{"field": "colour", "op": "is", "value": "red"}]}, "conditions.0.field"),
        ({"conditions": [{"field": "subject", "op": "gt", "value": 3}]}, "conditions.0.op"),
        ({"conditions": [{"field": "subject", "op": "is"}]}, "conditions.0.value"),
        ({"actions": [{"type": "explode"}]}, "actions.0"),
        ({"actions": []}, "actions"),
        ({"events": []}, "events"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"match": "most"}, "match"),
        ({"kind": "time", "events": []}, "conditions"),
        ({"enabled": "perhaps"}, "enabled"),
    ],
)
def test_an_invalid_rule_answers_422_naming_the_field(
    client: Any, as_: Any, desk: Desk, body: dict[str, Any], field: str
) -> None:
    response = client.post(f"{API}/automation/rules", json={**VPN_RULE, **body}, headers=as_("admin"))
    assert response.status_code == 422, response.json
    assert response.json["code"] in ("invalid", "unprocessable_entity")
    assert field in response.json["errors"], response.json
    assert count(desk, Rule) == 0


def test_rule_names_are_unique_and_kinds_stay(client: Any, as_: Any) -> None:
    admin = as_("admin")
    rule = create_rule(client, admin)
    twin = client.post(f"{API}/automation/rules", json={**VPN_RULE, "name": "route vpn"}, headers=admin)
    assert (twin.status_code, list(twin.json["errors"])) == (422, ["name"])
    retyped = client.patch(f"{API}/automation/rules/{rule['id']}", json={"kind": "time"}, headers=admin)
    assert (retyped.status_code, list(retyped.json["errors"])) == (422, ["kind"])
    emptied = client.patch(f"{API}/automation/rules/{rule['id']}", json={"actions": []}, headers=admin)
    assert (emptied.status_code, list(emptied.json["errors"])) == (422, ["actions"])


def test_rules_templates_and_jobs_are_for_admins(client: Any, as_: Any, cast: dict[str, User]) -> None:
    rule = create_rule(client, as_("admin"))
    admin_calls = [
        ("get", f"{API}/automation/rules", None),
        ("post", f"{API}/automation/rules", VPN_RULE),
        ("get", f"{API}/automation/rules/{rule['id']}", None),
        ("patch", f"{API}/automation/rules/{rule['id']}", {"enabled": False}),
        ("delete", f"{API}/automation/rules/{rule['id']}", None),
        ("post", f"{API}/automation/rules/{rule['id']}/move", {"position": 1}),
        ("post", f"{API}/automation/dry-run", VPN_RULE),
        ("get", f"{API}/automation/export", None),
        ("post", f"{API}/automation/import", None),
        ("get", f"{API}/automation/templates", None),
        ("put", f"{API}/automation/templates/ticket.received", {"subject": "Hi", "body": "Hello"}),
        ("delete", f"{API}/automation/templates/ticket.received", None),
        ("get", f"{API}/jobs", None),
        ("get", f"{API}/jobs/failed", None),
        ("post", f"{API}/jobs/1/retry", None),
    ]
    for who in ("agent", "rita"):
        for method, path, body in admin_calls:
            response = getattr(client, method)(path, json=body, headers=as_(who))
            assert (response.status_code, response.json["code"]) == (403, "forbidden"), (who, method, path)
    for method, path, body in admin_calls:
        assert getattr(client, method)(path, json=body).status_code == 401, (method, path)
    # An admin's write-scope token reads, but configuration changes need the admin scope.
    limited = as_("admin", "write")
    assert client.get(f"{API}/automation/rules", headers=limited).status_code == 200
    assert client.post(f"{API}/automation/rules", json=VPN_RULE, headers=limited).status_code == 403
    assert client.post(f"{API}/automation/dry-run", json=VPN_RULE, headers=limited).status_code == 200
    assert client.get(f"{API}/automation/rules", headers=as_("admin", "read")).status_code == 200


# --- Dry run --------------------------------------------------------------------------------------


def test_a_dry_run_lists_matching_open_tickets_and_changes_nothing(client: Any, as_: Any, desk: Desk) -> None:
    vpn = ticket(desk, "VPN drops every hour")
    ticket(desk, "Printer jam")
    closed = ticket(desk, "VPN token lost", status="closed")
    before = count(desk, Rule)
    response = client.post(f"{API}/automation/dry-run", json=VPN_RULE, headers=as_("admin"))
    assert response.status_code == 200, response.json
    assert response.json == [{"number": vpn, "subject": "VPN drops every hour", "status": "new"}]
    assert closed not in [match["number"] for match in response.json], "closed tickets never match"
    assert count(desk, Rule) == before
    with desk.reading(SYSTEM) as uow:
        assert tickets.get_ticket(uow, vpn).tags == [], "nothing was done"

    waited = client.post(
        f"{API}/automation/dry-run",
        json={"kind": "time", "conditions": [{"field": "hours_since_created", "op": "lt", "value": 1}]},
        headers=as_("admin"),
    )
    assert waited.status_code == 200, waited.json
    assert sorted(match["number"] for match in waited.json) == sorted([vpn, vpn + 1])

    bad = client.post(
        f"{API}/automation/dry-run",
        json={"events": ["ticket.created"], "conditions": [{"field": "nope", "op": "is", "value": "x"}]},
        headers=as_("admin"),
    )
    assert (bad.status_code, list(bad.json["errors"])) == (422, ["conditions.0.field"])


# --- YAML -----------------------------------------------------------------------------------------


def test_yaml_export_and_import_round_trip(client: Any, as_: Any, desk: Desk) -> None:
    admin = as_("admin")
    create_rule(client, admin)
    create_rule(
        client,
        admin,
        name="Remind",
        kind="time",
        events=[],
        conditions=[{"field": "hours_since_updated", "op": "gt", "value": 48}],
    )
    macro = client.post(f"{API}/macros", json={"name": "Thanks", "body": "Thank you!", "shared": True}, headers=admin)
    assert macro.status_code == 201, macro.json

    exported = client.get(f"{API}/automation/export", headers=admin)
    assert exported.status_code == 200
    assert exported.mimetype == "application/yaml"
    assert "attachment" in exported.headers["Content-Disposition"]
    document = yaml.safe_load(exported.text)
    assert [r["name"] for r in document["triggers"]] == ["Route VPN"]
    assert [r["name"] for r in document["time_rules"]] == ["Remind"]
    assert [m["name"] for m in document["macros"]] == ["Thanks"]
    assert client.get(f"{API}/automation/export", headers=admin).text == exported.text, "stable bytes"

    unchanged = client.post(f"{API}/automation/import", data=exported.text, headers=admin)
    assert unchanged.status_code == 200, unchanged.json
    assert unchanged.json == {"created": 0, "updated": 0, "deleted": 0}

    document["triggers"][0]["description"] = "From git"
    document["triggers"].append({**VPN_RULE, "name": "Second"})
    del document["time_rules"][0]
    changed = client.post(
        f"{API}/automation/import",
        data=yaml.safe_dump(document),
        headers={**admin, "Content-Type": "application/yaml"},
    )
    assert changed.json == {"created": 1, "updated": 1, "deleted": 0}, "without replace, Remind stays"
    replaced = client.post(f"{API}/automation/import?replace=true", data=yaml.safe_dump(document), headers=admin)
    assert replaced.json == {"created": 0, "updated": 0, "deleted": 1}
    names = [r["name"] for r in client.get(f"{API}/automation/rules", headers=admin).json]
    assert names == ["Route VPN", "Second"]
    again = client.get(f"{API}/automation/export", headers=admin).text
    assert yaml.safe_load(again)["triggers"][0]["description"] == "From git"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            "triggers:\n"
            "  - name: Fine\n    events: [ticket.created]\n    actions: [{type: add_tags, tags: [ok]}]\n"
            "  - name: Broken\n    events: [ticket.created]\n"
            "    conditions: [{field: subject, op: gt, value: 3}]\n    actions: [{type: add_tags, tags: [x]}]\n",
            "triggers[2] 'Broken'.conditions.0.op",
        ),
        ("triggers: [unclosed\n", "file"),
        ("- just\n- a list\n", "file"),
        ("version: 7\n", "version"),
        ("triggers: {name: x}\n", "triggers"),
        ("macros:\n  - name: Empty\n", "macros[1] 'Empty'.body"),
    ],
)
def test_an_invalid_import_names_the_rule_and_field_and_changes_nothing(
    client: Any, as_: Any, desk: Desk, text: str, field: str
) -> None:
    admin = as_("admin")
    create_rule(client, admin, name="Fine", description="before")
    before = client.get(f"{API}/automation/export", headers=admin).text
    response = client.post(f"{API}/automation/import?replace=true", data=text, headers=admin)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json["errors"]
    assert field in response.json["message"]
    assert client.get(f"{API}/automation/export", headers=admin).text == before
    assert count(desk, Macro) == 0


def test_an_import_that_is_not_utf8_is_refused(client: Any, as_: Any) -> None:
    response = client.post(f"{API}/automation/import", data=b"triggers: [\xff]", headers=as_("admin"))
    assert (response.status_code, response.json["errors"]) == (422, {"file": ["must be UTF-8 text"]})


# --- The automation log ---------------------------------------------------------------------------


def test_the_automation_log_of_a_ticket_is_for_agents_who_see_it(client: Any, as_: Any, desk: Desk) -> None:
    create_rule(client, as_("admin"))
    number = ticket(desk, "VPN down")
    response = client.get(f"{API}/tickets/{number}/automation-log", headers=as_("agent"))
    assert response.status_code == 200, response.json
    [entry] = response.json
    assert entry["trigger"] == "ticket.created"
    assert entry["rules"] == [
        {"rule": "Route VPN", "matched": True, "why": "all conditions held", "done": ["added tags vpn"], "error": None}
    ]
    assert client.get(f"{API}/tickets/{number}/automation-log?limit=0", headers=as_("agent")).status_code == 422
    assert client.get(f"{API}/tickets/{number}/automation-log", headers=as_("outsider")).status_code == 404
    assert client.get(f"{API}/tickets/{number}/automation-log", headers=as_("rita")).status_code == 403
    assert client.get(f"{API}/tickets/999999/automation-log", headers=as_("agent")).status_code == 404


# --- Macros ---------------------------------------------------------------------------------------


def test_agents_keep_personal_macros_and_admins_shared_ones(client: Any, as_: Any) -> None:
    mine = client.post(
        f"{API}/macros", json={"name": "Mine", "body": "Hi {{ ticket.requester.name }}"}, headers=as_("agent")
    )
    assert mine.status_code == 201, mine.json
    assert mine.headers["Location"] == f"/api/v1/macros/{mine.json['id']}"
    assert (mine.json["shared"], mine.json["public"], mine.json["actions"]) == (False, True, [])
    refused = client.post(f"{API}/macros", json={"name": "Team", "body": "x", "shared": True}, headers=as_("agent"))
    assert refused.status_code == 403
    shared = client.post(
        f"{API}/macros",
        json={"name": "Pending", "actions": [{"type": "set", "field": "status", "value": "pending"}], "shared": True},
        headers=as_("admin"),
    )
    assert shared.status_code == 201, shared.json
    assert shared.json["shared"] is True
    limited = client.post(
        f"{API}/macros", json={"name": "T", "body": "x", "shared": True}, headers=as_("admin", "write")
    )
    assert limited.status_code == 403, "shared macros need an admin-scope token"

    assert [m["name"] for m in client.get(f"{API}/macros", headers=as_("agent")).json] == ["Pending", "Mine"]
    assert [m["name"] for m in client.get(f"{API}/macros", headers=as_("second")).json] == ["Pending"]
    assert client.get(f"{API}/macros/{mine.json['id']}", headers=as_("second")).status_code == 404
    assert client.patch(f"{API}/macros/{mine.json['id']}", json={"name": "x"}, headers=as_("second")).status_code == 404
    assert client.get(f"{API}/macros", headers=as_("rita")).status_code == 403
    assert client.post(f"{API}/macros", json={}, headers=as_("rita")).status_code == 403, "403 before 422"

    renamed = client.patch(f"{API}/macros/{mine.json['id']}", json={"name": "Greeting"}, headers=as_("agent"))
    assert (renamed.status_code, renamed.json["name"]) == (200, "Greeting")
    assert (
        client.patch(f"{API}/macros/{shared.json['id']}", json={"name": "x"}, headers=as_("agent")).status_code == 403
    )
    unshared = client.patch(f"{API}/macros/{shared.json['id']}", json={"shared": False}, headers=as_("admin"))
    assert (unshared.status_code, list(unshared.json["errors"])) == (422, ["shared"])
    assert client.delete(f"{API}/macros/{shared.json['id']}", headers=as_("agent")).status_code == 403
    assert client.delete(f"{API}/macros/{mine.json['id']}", headers=as_("agent")).status_code == 204
    assert client.get(f"{API}/macros/{mine.json['id']}", headers=as_("agent")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Empty"}, "body"),
        ({"name": "", "body": "x"}, "name"),
        ({"body": "x"}, "name"),
        ({"name": "Bad", "actions": [{"type": "webhook.call"}]}, "actions.0"),
        ({"name": "Bad", "actions": [{"type": "set", "field": "colour", "value": "red"}]}, "actions.0.field"),
        ({"name": "Bad", "body": "{{ ticket."}, "body"),
        ({"name": "Bad", "body": "a\x00b"}, "body"),
    ],
)
def test_an_invalid_macro_answers_422_naming_the_field(
    client: Any, as_: Any, desk: Desk, body: dict[str, Any], field: str
) -> None:
    response = client.post(f"{API}/macros", json=body, headers=as_("agent"))
    assert response.status_code == 422, response.json
    assert any(key == field or key.startswith(field) for key in response.json["errors"]), response.json
    assert count(desk, Macro) == 0


def test_applying_a_macro_changes_the_ticket_and_replies(client: Any, as_: Any, desk: Desk) -> None:
    number = ticket(desk)
    macro = client.post(
        f"{API}/macros",
        json={
            "name": "Waiting",
            "body": "Hello {{ ticket.requester.name }}, we need more details.",
            "actions": [{"type": "set", "field": "status", "value": "pending"}, {"type": "add_tags", "tags": ["info"]}],
        },
        headers=as_("agent"),
    ).json
    seen = client.get(f"{API}/tickets/{number}", headers=as_("agent"))
    version = seen.json["version"]

    stale = client.post(
        f"{API}/tickets/{number}/macros/{macro['id']}", headers={**as_("agent"), "If-Match": f'"{version - 1}"'}
    )
    assert (stale.status_code, stale.json["code"]) == (409, "conflict")
    stale_body = client.post(
        f"{API}/tickets/{number}/macros/{macro['id']}", json={"version": version + 5}, headers=as_("agent")
    )
    assert stale_body.status_code == 409
    assert client.get(f"{API}/tickets/{number}", headers=as_("agent")).json["version"] == version, "nothing applied"

    applied = client.post(
        f"{API}/tickets/{number}/macros/{macro['id']}", headers={**as_("agent"), "If-Match": seen.headers["ETag"]}
    )
    assert applied.status_code == 200, applied.json
    assert (applied.json["status"], applied.json["tags"]) == ("pending", ["info"])
    assert applied.headers["ETag"] == f'"{applied.json["version"]}"'
    with desk.db.reading() as session:
        [reply] = session.scalars(select(Comment).where(Comment.ticket_id == number)).all()
        assert reply.public is True
        assert "Hello Rita, we need more details." in reply.body

    again = client.post(f"{API}/tickets/{number}/macros/{macro['id']}", json={}, headers=as_("agent"))
    assert again.status_code == 200, "no version: applied to whatever is current"
    for etag in ("x", '"²"', '"99999999999999999999"'):  # "²" passes str.isdigit but not int()
        url = f"{API}/tickets/{number}/macros/{macro['id']}"
        refused = client.post(url, headers={**as_("agent"), "If-Match": etag})
        assert refused.json["errors"] == {"If-Match": ['give the ticket\'s ETag, e.g. "7"']}


def test_a_macro_on_a_ticket_the_agent_cannot_see_is_not_found(client: Any, as_: Any, desk: Desk) -> None:
    theirs = ticket(desk, group="Network")
    shared = client.post(
        f"{API}/macros", json={"name": "Hi", "body": "Hello", "shared": True}, headers=as_("admin")
    ).json
    response = client.post(f"{API}/tickets/{theirs}/macros/{shared['id']}", headers=as_("agent"))
    assert (response.status_code, response.json["code"]) == (404, "not_found")
    assert client.post(f"{API}/tickets/{theirs}/macros/{shared['id']}", headers=as_("rita")).status_code == 403
    assert client.post(f"{API}/tickets/{theirs}/macros/999999", headers=as_("outsider")).status_code == 404
    with desk.db.reading() as session:
        assert session.scalars(select(Comment)).all() == []


def test_a_macro_that_moves_the_ticket_away_answers_204(client: Any, as_: Any, desk: Desk) -> None:
    number = ticket(desk)
    macro = client.post(
        f"{API}/macros",
        json={"name": "To network", "actions": [{"type": "set", "field": "group", "value": "Network"}]},
        headers=as_("agent"),
    ).json
    moved = client.post(f"{API}/tickets/{number}/macros/{macro['id']}", headers=as_("agent"))
    assert (moved.status_code, moved.data) == (204, b"")
    assert client.get(f"{API}/tickets/{number}", headers=as_("outsider")).json["group"] == "Network"


# --- Escalation and notifications -------------------------------------------------------------------


def test_escalating_moves_up_a_level_and_notifies_the_next_group(client: Any, as_: Any, desk: Desk) -> None:
    number = ticket(desk, assignee="ann@example.com")
    assert client.post(f"{API}/tickets/{number}/escalate", json={"reason": "x"}, headers=as_("rita")).status_code == 403
    assert client.post(f"{API}/tickets/{number}/escalate", headers=as_("outsider")).status_code == 404
    too_long = client.post(f"{API}/tickets/{number}/escalate", json={"reason": "x" * 2001}, headers=as_("agent"))
    assert (too_long.status_code, list(too_long.json["errors"])) == (422, ["reason"])

    escalated = client.post(f"{API}/tickets/{number}/escalate", json={"reason": "needs L2"}, headers=as_("agent"))
    assert (escalated.status_code, escalated.data) == (204, b""), "Ann is not in L2: the ticket left her view"
    shown = client.get(f"{API}/tickets/{number}", headers=as_("second")).json
    assert (shown["group"], shown["assignee"]) == ("L2", None)
    history = client.get(f"{API}/tickets/{number}/history", headers=as_("admin")).json
    assert any(entry["field"] == "escalated" for entry in history)

    top = client.post(f"{API}/tickets/{number}/escalate", headers=as_("admin"))
    assert (top.status_code, list(top.json["errors"])) == (422, ["group"])

    bell = client.get(f"{API}/me/notifications", headers=as_("second"))
    assert bell.status_code == 200
    assert bell.json["unread"] == 1
    [notice] = bell.json["items"]
    assert (notice["kind"], notice["ticket"], notice["read_at"]) == ("ticket.escalated", number, None)
    assert "needs L2" in notice["body"]


def test_an_admin_escalating_gets_the_ticket_back(client: Any, as_: Any, desk: Desk) -> None:
    number = ticket(desk)
    response = client.post(f"{API}/tickets/{number}/escalate", headers=as_("admin"))
    assert response.status_code == 200, response.json
    assert (response.json["number"], response.json["group"]) == (number, "L2")
    assert response.headers["ETag"] == f'"{response.json["version"]}"'


def test_notifications_are_read_one_by_one_or_all_at_once(client: Any, as_: Any, desk: Desk) -> None:
    for _ in range(3):
        client.post(f"{API}/tickets/{ticket(desk)}/escalate", headers=as_("admin"))
    sam = as_("second")
    bell = client.get(f"{API}/me/notifications?limit=2", headers=sam).json
    assert bell["unread"] == 3
    assert len(bell["items"]) == 2
    assert bell["items"][0]["id"] > bell["items"][1]["id"], "newest first"
    assert client.get(f"{API}/me/notifications", headers=as_("agent")).json == {"unread": 0, "items": []}

    first = bell["items"][0]["id"]
    ignored = client.post(f"{API}/me/notifications/read", json={"ids": [first]}, headers=as_("agent"))
    assert ignored.json == {"marked": 0, "unread": 0}, "other people's notifications are not touched"
    one = client.post(f"{API}/me/notifications/read", json={"ids": [first]}, headers=sam)
    assert (one.status_code, one.json) == (200, {"marked": 1, "unread": 2})
    again = client.get(f"{API}/me/notifications", headers=sam).json
    assert [item["read_at"] is not None for item in again["items"]] == [True, False, False]
    assert client.post(f"{API}/me/notifications/read", headers=sam).json == {"marked": 2, "unread": 0}
    assert client.post(f"{API}/me/notifications/read", json={"ids": [0]}, headers=sam).status_code == 422
    assert client.get(f"{API}/me/notifications").status_code == 401


# --- Notification templates -----------------------------------------------------------------------


def test_admins_change_and_reset_notification_templates(client: Any, as_: Any, desk: Desk) -> None:
    admin = as_("admin")
    listed = client.get(f"{API}/automation/templates", headers=admin)
    assert listed.status_code == 200
    kinds = {t["kind"]: t for t in listed.json}
    assert {"ticket.received", "ticket.escalated"} <= set(kinds)
    default = kinds["ticket.escalated"]
    assert default["customised"] is False
    assert (default["subject"], default["body"]) == (default["default"]["subject"], default["default"]["body"])
    assert default["audience"] == "agent"

    changed = client.put(
        f"{API}/automation/templates/ticket.escalated",
        json={"subject": "  Up: {{ ticket.subject }}  ", "body": "Reason: {{ reason }}"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["subject"], changed.json["customised"]) == ("Up: {{ ticket.subject }}", True)
    assert changed.json["default"] == default["default"]
    client.post(f"{API}/tickets/{ticket(desk, 'Disk full')}/escalate", json={"reason": "big"}, headers=admin)
    [notice] = client.get(f"{API}/me/notifications", headers=as_("second")).json["items"]
    assert (notice["subject"], notice["body"]) == ("Up: Disk full", "Reason: big")

    broken = client.put(
        f"{API}/automation/templates/ticket.escalated", json={"subject": "x", "body": "{% if %}"}, headers=admin
    )
    assert (broken.status_code, list(broken.json["errors"])) == (422, ["body"])
    blank = client.put(f"{API}/automation/templates/ticket.escalated", json={"subject": " ", "body": ""}, headers=admin)
    assert (blank.status_code, list(blank.json["errors"])) == (422, ["subject"])
    missing = client.put(f"{API}/automation/templates/ticket.nope", json={"subject": "x", "body": "y"}, headers=admin)
    assert missing.status_code == 404
    assert client.delete(f"{API}/automation/templates/ticket.nope", headers=admin).status_code == 404

    reset = client.delete(f"{API}/automation/templates/ticket.escalated", headers=admin)
    assert reset.status_code == 200
    assert reset.json == default
    assert client.delete(f"{API}/automation/templates/ticket.escalated", headers=admin).json == default


# --- Jobs -----------------------------------------------------------------------------------------


class Flaky:
    """A job that fails until told otherwise."""

    def __init__(self) -> None:
        self.failing = True
        self.runs = 0

    def __call__(self, desk: Desk, **arguments: Any) -> None:
        self.runs += 1
        if self.failing:
            raise RuntimeError("the mail server said no")


def test_failed_jobs_are_listed_and_retried(client: Any, as_: Any, desk: Desk) -> None:
    flaky = Flaky()
    desk.jobs.register([Job("test.flaky", flaky, attempts=1)])
    job_id = desk.jobs.enqueue("test.flaky", to="rita@example.com")
    admin = as_("admin")

    summary = {row["name"]: row for row in client.get(f"{API}/jobs", headers=admin).json}
    assert summary["test.flaky"] == {
        "name": "test.flaky",
        "registered": True,
        "periodic": False,
        "attempts": 1,
        "queued": 0,
        "running": 0,
        "failed": 1,
    }
    assert summary["events.sweep"]["periodic"] is True
    [failed] = client.get(f"{API}/jobs/failed", headers=admin).json
    assert (failed["id"], failed["name"], failed["arguments"], failed["state"]) == (
        job_id,
        "test.flaky",
        {"to": "rita@example.com"},
        "failed",
    )
    assert "RuntimeError: the mail server said no" in failed["error"]
    assert failed["failed_at"] is not None
    assert client.get(f"{API}/jobs/failed?limit=0", headers=admin).status_code == 422

    assert client.post(f"{API}/jobs/{job_id}/retry", headers=as_("admin", "write")).status_code == 403
    flaky.failing = False
    retried = client.post(f"{API}/jobs/{job_id}/retry", headers=admin)
    assert retried.status_code == 202, retried.json
    assert (retried.json["id"], retried.json["state"], retried.json["attempts"]) == (job_id, "queued", 0)
    assert flaky.runs == 2, "the in-memory queue runs it at once"
    assert client.get(f"{API}/jobs/failed", headers=admin).json == []
    assert count(desk, JobRecord) == 0
    assert client.post(f"{API}/jobs/{job_id}/retry", headers=admin).status_code == 404


def test_only_failed_jobs_are_retried_and_unknown_ones_are_listed(
    client: Any, as_: Any, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.jobs.register([Job("test.later", lambda desk: None)])
    monkeypatch.setattr(desk.jobs, "send", lambda jobs: None)  # queued, never delivered
    queued = desk.jobs.enqueue("test.later")
    with desk.db.transaction() as session:
        session.add(JobRecord(name="gone.plugin", arguments={}, state="failed", attempts=3, error="boom"))
    response = client.post(f"{API}/jobs/{queued}/retry", headers=as_("admin"))
    assert (response.status_code, response.json["errors"]) == (422, {"job": [f"job #{queued} is queued, not failed"]})
    summary = {row["name"]: row for row in client.get(f"{API}/jobs", headers=as_("admin")).json}
    assert summary["test.later"]["queued"] == 1
    assert (summary["gone.plugin"]["registered"], summary["gone.plugin"]["failed"]) == (False, 1)


# --- Groups: support levels -----------------------------------------------------------------------


def test_groups_show_and_change_their_next_level(client: Any, as_: Any, desk: Desk) -> None:
    admin = as_("admin")
    groups = {g["name"]: g for g in client.get(f"{API}/groups", headers=admin).json}
    assert (groups["L1"]["escalates_to"], groups["L2"]["escalates_to"]) == ("L2", None)
    l2, network = groups["L2"]["id"], groups["Network"]["id"]

    changed = client.patch(f"{API}/groups/{l2}", json={"escalates_to": "network"}, headers=admin)
    assert (changed.status_code, changed.json["escalates_to"]) == (200, "Network")
    assert client.get(f"{API}/groups/{l2}", headers=as_("agent")).json["escalates_to"] == "Network"
    loop = client.patch(f"{API}/groups/{network}", json={"escalates_to": "L1"}, headers=admin)
    assert (loop.status_code, loop.json["errors"]) == (422, {"escalates_to": ["levels would loop back to this group"]})
    unknown = client.patch(f"{API}/groups/{network}", json={"escalates_to": "L9"}, headers=admin)
    assert (unknown.status_code, list(unknown.json["errors"])) == (422, ["escalates_to"])
    cleared = client.patch(f"{API}/groups/{l2}", json={"escalates_to": None}, headers=admin)
    assert (cleared.status_code, cleared.json["escalates_to"]) == (200, None)
    assert client.patch(f"{API}/groups/{l2}", json={"escalates_to": "L1"}, headers=as_("agent")).status_code == 403

    document = client.get("/api/openapi.json").json["components"]["schemas"]
    assert document["Group"]["properties"]["escalates_to"]["type"] == ["string", "null"]
    assert "escalates_to" in document["GroupUpdate"]["properties"]


# --- The OpenAPI document, as an admin --------------------------------------------------------------

OWN_PATHS = ("/api/v1/automation", "/api/v1/macros", "/api/v1/jobs", "/api/v1/me/notifications")
OWN_TICKET_PATHS = ("/automation-log", "/escalate", "/macros/{macro_id}")


@pytest.mark.slow
def test_the_automation_api_answers_any_input_without_a_server_error(
    app: Any, desk: Desk, cast: dict[str, User], as_: Any
) -> None:
    """Schemathesis over this module's operations as an admin (the shared schema test calls them as agents)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    ticket(desk, "VPN down")
    with desk.db.transaction() as session:
        session.add(JobRecord(name="gone.plugin", arguments={}, state="failed", attempts=3, error="boom"))
    headers = as_("admin")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        path = operation.path
        if not (
            path.startswith(OWN_PATHS) or (path.startswith("/api/v1/tickets/") and path.endswith(OWN_TICKET_PATHS))
        ):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, excluded_checks=[ignored_auth, positive_data_acceptance])

        check()
        checked += 1
    assert checked == 25
    assert count(desk, Ticket) >= 1


# --- Saved views -----------------------------------------------------------------------------------


def test_saved_views_through_the_api(client: Any, as_: Any) -> None:
    mine = client.post(
        "/api/v1/views",
        json={"name": "Urgent in L1", "filters": {"group": "L1", "priority": ["urgent"]}, "columns": ["subject"]},
        headers=as_("agent"),
    )
    assert mine.status_code == 201, mine.json
    assert mine.json["shared"] is False
    assert mine.json["filters"]["priority"] == ["urgent"]
    bad = client.post("/api/v1/views", json={"name": "x", "columns": ["colour"]}, headers=as_("agent"))
    assert bad.status_code == 422
    assert "columns.0" in bad.json["errors"]
    refused = client.post("/api/v1/views", json={"name": "Team", "shared": True}, headers=as_("agent"))
    assert refused.status_code == 403
    shared = client.post("/api/v1/views", json={"name": "Team", "shared": True}, headers=as_("admin"))
    assert shared.status_code == 201
    assert [v["name"] for v in client.get("/api/v1/views", headers=as_("agent")).json] == ["Team", "Urgent in L1"]
    assert [v["name"] for v in client.get("/api/v1/views", headers=as_("second")).json] == ["Team"]
    assert client.get(f"/api/v1/views/{mine.json['id']}", headers=as_("second")).status_code == 404
    assert client.delete(f"/api/v1/views/{shared.json['id']}", headers=as_("agent")).status_code == 403
    assert client.delete(f"/api/v1/views/{mine.json['id']}", headers=as_("agent")).status_code == 204
    assert client.get("/api/v1/views", headers=as_("rita")).status_code == 403


def test_a_change_that_moves_a_ticket_out_of_view_answers_204(client: Any, desk: Desk, as_: Any) -> None:
    number = ticket(desk)
    moved = client.patch(f"/api/v1/tickets/{number}", json={"group": "Network"}, headers=as_("agent"))
    assert moved.status_code == 204, "committed, but the ticket is not the agent's to see any more"
    assert client.get(f"/api/v1/tickets/{number}", headers=as_("admin")).json["group"] == "Network"
