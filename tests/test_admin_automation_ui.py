"""The admin console's automation pages through the Flask test client: rules, YAML, dry runs, shared macros,
notification texts, jobs and support levels."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import pytest
import yaml
from marshmallow import Schema, fields
from sqlalchemy import select

from frontdesk import hookimpl
from frontdesk.automation import ActionType, Field
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.models import Group, JobRecord, Macro, NotificationTemplate, Rule, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation, macros, people, tickets

PAGES = [
    "/admin/automation",
    "/admin/automation/new",
    "/admin/automation/new?kind=time",
    "/admin/automation/macros",
    "/admin/automation/macros/new",
    "/admin/automation/notifications",
    "/admin/jobs",
]


def login(client: Any, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": "password123"})
    assert response.status_code == 302, f"{email} signs in"


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", response.text))


@pytest.fixture
def app(app: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def admin(make_user: Any) -> User:
    return make_user(email="root@example.com", name="Root Admin", role="admin")


@pytest.fixture
def signed_in(client: Any, admin: User) -> Any:
    login(client, admin.email)
    return client


def make_rule(desk: Desk, **data: Any) -> int:
    data = {"actions": [{"type": "add_tags", "tags": ["x"]}], **data}
    data.setdefault("events", ["ticket.created"] if data.get("kind", "trigger") == "trigger" else [])
    with desk.action(SYSTEM, source="test") as uow:
        return automation.create_rule(uow, data).id


def stored(desk: Desk, rule_id: int) -> dict[str, Any] | None:
    with desk.reading(SYSTEM) as uow:
        rule = uow.session.get(Rule, rule_id)
        return automation.rule_data(rule) if rule else None


def order(desk: Desk, kind: str = "trigger") -> list[str]:
    with desk.reading(SYSTEM) as uow:
        return [rule.name for rule in automation.list_rules(uow, kind)]


TRIGGER_FORM = {
    "kind": "trigger",
    "name": "Printer triage",
    "description": "Tag printer tickets",
    "enabled": "on",
    "events": ["ticket.created", "ticket.updated"],
    "events_other": "sla.breached",
    "match": "all",
    "conditions-0-field": "subject",
    "conditions-0-op": "contains",
    "conditions-0-value": "printer",
    # Rows keep the order of their numbers, gaps (rows removed in the browser) included.
    "conditions-4-field": "priority",
    "conditions-4-op": "in",
    "conditions-4-value": "high, urgent",
    "conditions-5-field": "",  # an untouched blank row is left out
    "actions-0-type": "add_tags",
    "actions-0-tags": "printer, hardware",
    "actions-2-type": "notify",
    "actions-2-to": ["requester", "group"],
    "actions-2-template": "ticket.received",
}


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_an_admin(signed_in: Any, path: str) -> None:
    response = signed_in.get(path)
    assert response.status_code == 200
    assert "Admin" in response.text


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_others_are_refused(client: Any, make_user: Any, desk: Desk, role: str) -> None:
    rule_id = make_rule(desk, name="Kept")
    login(client, make_user(role=role).email)
    for path in [*PAGES, f"/admin/automation/{rule_id}", "/admin/automation/export"]:
        assert client.get(path).status_code == 403, path
    for path in (
        f"/admin/automation/{rule_id}/toggle",
        f"/admin/automation/{rule_id}/delete",
        "/admin/automation/new",
        "/admin/automation/import",
        "/admin/automation/notifications/ticket.received",
        "/admin/jobs/1/retry",
    ):
        assert client.post(path, data={"name": "Sneaky"}).status_code == 403, path
    assert stored(desk, rule_id)["enabled"] is True
    assert order(desk) == ["Kept"]


def test_the_nav_lists_the_new_sections_and_marks_the_closest(signed_in: Any) -> None:
    html = signed_in.get("/admin/automation/macros").text
    for href in ("/admin/automation", "/admin/automation/macros", "/admin/automation/notifications", "/admin/jobs"):
        assert f'href="{href}"' in html
    assert re.findall(
        r'class="list-group-item list-group-item-action active"\s+aria-current="page" href="([^"]+)"', html
    ) == ["/admin/automation/macros"]
    index = text_of(signed_in.get("/admin/"))
    assert "Triggers and time rules" in index
    assert "Background jobs" in index


# --- Rules: the form ----------------------------------------------------------------------------


def test_a_trigger_is_created_through_the_form_with_conditions_and_actions(signed_in: Any, desk: Desk) -> None:
    response = signed_in.post("/admin/automation/new", data=TRIGGER_FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/automation#triggers")
    with desk.reading(SYSTEM) as uow:
        rule_id = automation.rule_named(uow, "Printer triage").id
    assert stored(desk, rule_id) == {
        "name": "Printer triage",
        "description": "Tag printer tickets",
        "kind": "trigger",
        "enabled": True,
        "events": ["ticket.created", "ticket.updated", "sla.breached"],
        "match": "all",
        "conditions": [
            {"field": "subject", "op": "contains", "value": "printer"},
            {"field": "priority", "op": "in", "value": ["high", "urgent"]},
        ],
        "actions": [
            {"type": "add_tags", "tags": ["printer", "hardware"]},
            {"type": "notify", "to": ["requester", "group"], "template": "ticket.received"},
        ],
    }
    page = signed_in.get("/admin/automation")
    assert "Printer triage" in page.text
    # The edit form shows it back as typed: rows renumbered, lists comma-separated, plugin events apart.
    html = signed_in.get(f"/admin/automation/{rule_id}").text
    assert 'value="high, urgent"' in html
    assert 'name="conditions-1-field"' in html
    assert re.search(r'name="events_other"\s+type="text" value="sla.breached"', html)
    assert re.search(r'name="actions-1-to" value="group" checked', html)
    assert re.search(r'<option value="ticket.received" selected>', html)


def test_the_form_offers_number_boolean_and_choice_inputs(signed_in: Any, desk: Desk) -> None:
    rule_id = make_rule(
        desk,
        name="Mixed",
        conditions=[
            {"field": "hours_since_created", "op": "gt", "value": 48},
            {"field": "comment.public", "op": "is", "value": False},
            {"field": "status_category", "op": "is", "value": "pending"},
            {"field": "tags", "op": "present"},
        ],
    )
    html = signed_in.get(f"/admin/automation/{rule_id}").text
    assert re.search(r'type="number" step="any" id="conditions-0-value" name="conditions-0-value" value="48"', html)
    assert re.search(r'<option value="false" selected>false</option>', html)
    assert re.search(
        r'id="conditions-2-value"[^>]*>\s*<option value="">Choose…</option>.*?<option selected>pending</option>',
        html,
        re.S,
    )
    assert "No value needed." in html
    # Operators are limited to the field's kind: no "is more than" for a text field.
    op_select = re.search(r'<select[^>]*id="conditions-2-op".*?</select>', html, re.S).group(0)
    assert "is more than" not in op_select
    assert "contains" in op_select


def test_a_refused_rule_comes_back_with_the_typed_values_and_the_message(signed_in: Any, desk: Desk) -> None:
    data = {
        **TRIGGER_FORM,
        "name": "Broken",
        "conditions-0-op": "gt",  # not for a text field
        "actions-0-tags": "",  # tags are required
    }
    response = signed_in.post("/admin/automation/new", data=data)
    assert response.status_code == 422
    html = response.text
    assert "Nothing was saved" in html
    assert 'value="Broken"' in html
    assert 'value="printer"' in html
    assert re.search(r'aria-invalid="true" aria-describedby="conditions-0-op-error"', html)
    assert re.search(r'id="conditions-0-op-error">[^<]*does not apply to subject', unescape(html))
    assert order(desk) == []

    data["conditions-0-op"] = "contains"
    response = signed_in.post("/admin/automation/new", data=data)
    assert response.status_code == 422
    assert re.search(r'id="actions-0-tags-error">', response.text)
    assert order(desk) == []


def test_rows_are_added_and_removed_without_scripts(signed_in: Any, desk: Desk) -> None:
    added = signed_in.post("/admin/automation/new", data={**TRIGGER_FORM, "intent": "add:conditions"})
    assert added.status_code == 200
    assert 'name="conditions-2-field"' in added.text  # two typed rows, then the new blank one
    removed = signed_in.post("/admin/automation/new", data={**TRIGGER_FORM, "intent": "remove:actions:0"})
    assert removed.status_code == 200
    assert 'name="actions-0-type"' in removed.text
    assert 'name="actions-1-type"' not in removed.text
    assert re.search(r'<option value="notify" selected>', removed.text)
    changed = signed_in.post(
        "/admin/automation/new", data={**TRIGGER_FORM, "actions-0-type": "assign", "intent": "refresh"}
    )
    assert 'name="actions-0-strategy"' in changed.text
    assert order(desk) == []


def test_a_time_rule_is_created_without_events(signed_in: Any, desk: Desk) -> None:
    data = {
        "kind": "time",
        "name": "Close stale",
        "enabled": "on",
        "events": ["ticket.created"],  # ignored: time rules have none
        "match": "all",
        "conditions-0-field": "hours_since_status_changed",
        "conditions-0-op": "gt",
        "conditions-0-value": "72.5",
        "actions-0-type": "set",
        "actions-0-field": "status",
        "actions-0-value": "closed",
    }
    response = signed_in.post("/admin/automation/new?kind=time", data=data)
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"].endswith("#time-rules")
    with desk.reading(SYSTEM) as uow:
        rule = automation.rule_named(uow, "Close stale")
        assert (rule.kind, rule.events, rule.conditions[0]["value"]) == ("time", [], 72.5)
        assert rule.actions == [{"type": "set", "field": "status", "value": "closed"}]


def test_editing_a_rule_saves_it(signed_in: Any, desk: Desk) -> None:
    rule_id = make_rule(desk, name="Old name")
    data = {**TRIGGER_FORM, "name": "New name", "enabled": ""}
    response = signed_in.post(f"/admin/automation/{rule_id}", data=data)
    assert response.status_code == 302
    after = stored(desk, rule_id)
    assert after["name"] == "New name"
    assert after["enabled"] is False
    assert len(after["actions"]) == 2
    assert "was saved" in signed_in.get("/admin/automation").text


def test_a_stale_link_to_a_deleted_rule_says_so(signed_in: Any) -> None:
    response = signed_in.get("/admin/automation/999", follow_redirects=True)
    assert "no rule #999" in response.text


# --- Rules: the list ----------------------------------------------------------------------------


def test_rules_are_toggled_moved_and_deleted(signed_in: Any, desk: Desk) -> None:
    first, second, third = (make_rule(desk, name=name) for name in ("First", "Second", "Third"))
    response = signed_in.post(f"/admin/automation/{second}/toggle", follow_redirects=True)
    assert "Second is disabled." in response.text
    assert stored(desk, second)["enabled"] is False
    signed_in.post(f"/admin/automation/{second}/toggle")
    assert stored(desk, second)["enabled"] is True

    signed_in.post(f"/admin/automation/{third}/move", data={"direction": "up"})
    assert order(desk) == ["First", "Third", "Second"]
    signed_in.post(f"/admin/automation/{first}/move", data={"direction": "down"})
    assert order(desk) == ["Third", "First", "Second"]
    signed_in.post(f"/admin/automation/{third}/move", data={"direction": "up"})  # already first: nothing moves
    assert order(desk) == ["Third", "First", "Second"]

    page = signed_in.get("/admin/automation").text
    assert 'data-confirm="Delete “First”? This cannot be undone."' in page
    assert '<script src="/static/confirm.js" defer></script>' in page  # the layout's dialog before deleting
    # Without the page script's dialog, the server asks first.
    asked = signed_in.post(f"/admin/automation/{first}/delete")
    assert asked.status_code == 200
    assert "Delete trigger “First”?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert 'aria-label="Admin sections"' in asked.text  # asked within the console
    assert order(desk) == ["Third", "First", "Second"]
    response = signed_in.post(f"/admin/automation/{first}/delete", data={"confirm": "yes"}, follow_redirects=True)
    assert "First was deleted." in response.text
    assert order(desk) == ["Third", "Second"]
    gone = signed_in.post(f"/admin/automation/{first}/delete", data={"confirm": "yes"}, follow_redirects=True)
    assert "no rule #" in gone.text


def test_yaml_export_downloads_the_rules(signed_in: Any, desk: Desk) -> None:
    make_rule(desk, name="Tag it", conditions=[{"field": "subject", "op": "contains", "value": "vpn"}])
    response = signed_in.get("/admin/automation/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="frontdesk-automation.yaml"'
    document = yaml.safe_load(response.data)
    assert [rule["name"] for rule in document["triggers"]] == ["Tag it"]


def test_yaml_import_creates_rules_and_a_bad_file_changes_nothing(signed_in: Any, desk: Desk) -> None:
    make_rule(desk, name="Old")
    good = {
        "version": 1,
        "triggers": [
            {"name": "From file", "events": ["ticket.created"], "actions": [{"type": "add_tags", "tags": ["f"]}]}
        ],
        "macros": [{"name": "Thanks", "body": "Thanks, {{ ticket.requester.name }}!"}],
    }
    upload = {"file": (io.BytesIO(yaml.safe_dump(good).encode()), "rules.yaml"), "replace": "on"}
    response = signed_in.post("/admin/automation/import", data=upload, follow_redirects=True)
    assert "Imported rules.yaml: 2 created, 0 updated, 1 deleted." in text_of(response)
    assert order(desk) == ["From file"]

    bad = {
        "triggers": [
            {
                "name": "Broken",
                "events": ["ticket.created"],
                "conditions": [{"field": "subject", "op": "gt", "value": 1}],
                "actions": [{"type": "add_tags", "tags": ["b"]}],
            }
        ]
    }
    upload = {"file": (io.BytesIO(yaml.safe_dump(bad).encode()), "bad.yaml"), "replace": "on"}
    response = signed_in.post("/admin/automation/import", data=upload)
    assert response.status_code == 422
    assert "Nothing was imported" in response.text
    assert "triggers[1] 'Broken'.conditions.0.op" in unescape(response.text)
    assert 'id="import-replace"\n         name="replace" checked' in response.text
    assert order(desk) == ["From file"]

    broken = {"file": (io.BytesIO(b"triggers: [unclosed"), "broken.yaml")}
    response = signed_in.post("/admin/automation/import", data=broken)
    assert response.status_code == 422
    assert "not valid YAML" in response.text
    assert signed_in.post("/admin/automation/import", data={}).status_code == 422


def test_a_dry_run_lists_the_matching_open_tickets_without_saving(signed_in: Any, desk: Desk) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        hit = tickets.create_ticket(uow, {"subject": "Printer jammed", "requester": "rita@example.com"})
        tickets.create_ticket(uow, {"subject": "VPN down", "requester": "rita@example.com"})
    data = {
        "kind": "trigger",
        "name": "",  # not needed for a dry run
        "events": ["ticket.created"],
        "match": "all",
        "conditions-0-field": "subject",
        "conditions-0-op": "contains",
        "conditions-0-value": "printer",
        "intent": "dry_run",
    }
    response = signed_in.post("/admin/automation/new", data=data)
    assert response.status_code == 200
    page = text_of(response)
    assert "Dry run: 1 open ticket match now" in page
    assert f'href="/agent/tickets/{hit.number}">#{hit.number}</a> Printer jammed' in page
    assert "VPN down" not in page
    assert order(desk) == []

    response = signed_in.post("/admin/automation/new", data={**data, "conditions-0-op": "gt"})
    assert response.status_code == 422
    assert "does not apply to subject" in text_of(response)


# --- Plugins' fields and actions ----------------------------------------------------------------


class Weather:
    """A plugin with a condition field and an action type."""

    NAME = "weather"

    @hookimpl
    def frontdesk_automation_fields(self) -> list[Field]:
        return [Field("weather.stormy", "stormy outside", "boolean", lambda ctx: "storm" in ctx.ticket.subject.lower())]

    @hookimpl
    def frontdesk_automation_actions(self) -> list[ActionType]:
        class Forecast(Schema):
            days = fields.Integer(required=True)
            loud = fields.Boolean(load_default=False)

        return [ActionType("weather.forecast", "Add a forecast", Forecast, lambda ctx, params: "forecast")]


@pytest.mark.frontdesk_plugins("webui", Weather())
def test_plugin_fields_and_actions_appear_in_the_form(signed_in: Any, desk: Desk) -> None:
    html = signed_in.get("/admin/automation/new").text
    assert '<optgroup label="From plugins">' in html
    assert '<option value="weather.stormy">Stormy outside</option>' in html
    template = re.search(r'<template id="action-params-weather.forecast">(.*?)</template>', html, re.S).group(1)
    assert 'type="number"' in template
    assert 'type="checkbox"' in template
    data = {
        "kind": "trigger",
        "name": "Storm",
        "events": ["ticket.created"],
        "enabled": "on",
        "conditions-0-field": "weather.stormy",
        "conditions-0-op": "is",
        "conditions-0-value": "true",
        "actions-0-type": "weather.forecast",
        "actions-0-days": "3",
        "actions-0-loud": "on",
    }
    assert signed_in.post("/admin/automation/new", data=data).status_code == 302
    with desk.reading(SYSTEM) as uow:
        rule = automation.rule_named(uow, "Storm")
        assert rule.conditions == [{"field": "weather.stormy", "op": "is", "value": True}]
        assert rule.actions == [{"type": "weather.forecast", "days": 3, "loud": True}]
    # A macro may use plugin actions too, but not the rule-only core ones.
    macro_form = signed_in.get("/admin/automation/macros/new").text
    assert '<option value="weather.forecast">' in macro_form
    assert '<option value="notify">' not in macro_form
    assert '<option value="set">' in macro_form


# --- Shared macros ------------------------------------------------------------------------------


def test_shared_macros_are_created_edited_and_deleted(signed_in: Any, desk: Desk, admin: User) -> None:
    with desk.action(admin, source="test") as uow:
        macros.create_macro(uow, {"name": "My own", "body": "personal"})
    data = {
        "name": "Waiting for parts",
        "description": "Tell them we wait",
        "body": "Hello {{ ticket.requester.name }}, we are waiting for parts. {{ agent.name }}",
        "public": "public",
        "actions-0-type": "set",
        "actions-0-field": "status",
        "actions-0-value": "pending",
        "actions-1-type": "add_tags",
        "actions-1-tags": "parts",
    }
    response = signed_in.post("/admin/automation/macros/new", data=data)
    assert response.status_code == 302
    with desk.db.sessionmaker() as session:
        macro = session.scalars(select(Macro).filter_by(name="Waiting for parts")).one()
        assert macro.owner_id is None
        assert macro.public is True
        assert macro.actions == [
            {"type": "set", "field": "status", "value": "pending"},
            {"type": "add_tags", "tags": ["parts"]},
        ]
    listing = text_of(signed_in.get("/admin/automation/macros"))
    assert "Waiting for parts" in listing
    assert "My own" not in listing
    assert "{{ ticket.requester.name }}" in text_of(signed_in.get("/admin/automation/macros/new"))

    response = signed_in.post(
        f"/admin/automation/macros/{macro.id}", data={**data, "public": "internal", "body": "{{ broken"}
    )
    assert response.status_code == 422
    assert "not a valid template" in text_of(response)
    assert "{{ broken" in text_of(response)
    response = signed_in.post(f"/admin/automation/macros/{macro.id}", data={**data, "public": "internal"})
    assert response.status_code == 302
    with desk.db.sessionmaker() as session:
        assert session.get(Macro, macro.id).public is False

    assert "Delete shared macro" in signed_in.post(f"/admin/automation/macros/{macro.id}/delete").text
    response = signed_in.post(
        f"/admin/automation/macros/{macro.id}/delete", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "Macro Waiting for parts was deleted." in response.text
    with desk.db.sessionmaker() as session:
        assert session.get(Macro, macro.id) is None
        mine = session.scalars(select(Macro).filter_by(name="My own")).one()
    # A personal macro is not edited or deleted from the console.
    assert "no shared macro" in signed_in.get(f"/admin/automation/macros/{mine.id}", follow_redirects=True).text
    signed_in.post(f"/admin/automation/macros/{mine.id}/delete", data={"confirm": "yes"})
    with desk.db.sessionmaker() as session:
        assert session.get(Macro, mine.id) is not None


# --- Notification texts -------------------------------------------------------------------------


def test_notification_texts_are_saved_and_reset(signed_in: Any, desk: Desk) -> None:
    page = text_of(signed_in.get("/admin/automation/notifications"))
    assert "ticket.escalated" in page
    assert "{{ recipient.name }}" in page
    assert "Default text" in page
    data = {"intent": "save", "subject": "Got it: {{ ticket.subject }}", "body": "Hi {{ recipient.name }}"}
    response = signed_in.post("/admin/automation/notifications/ticket.received", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#tpl-ticket-received")
    with desk.db.sessionmaker() as session:
        assert session.get(NotificationTemplate, "ticket.received").subject == "Got it: {{ ticket.subject }}"
    page = text_of(signed_in.get("/admin/automation/notifications"))
    assert "customized" in page
    assert "Reset to default" in page

    response = signed_in.post("/admin/automation/notifications/ticket.received", data={**data, "body": "{% if %}"})
    assert response.status_code == 422
    assert "not a valid template" in text_of(response)
    assert "{% if %}" in text_of(response)

    signed_in.post("/admin/automation/notifications/ticket.received", data={"intent": "reset"})
    with desk.db.sessionmaker() as session:
        assert session.get(NotificationTemplate, "ticket.received") is None
    assert signed_in.post("/admin/automation/notifications/no.such", data=data).status_code == 404


# --- Jobs ---------------------------------------------------------------------------------------


def test_failed_jobs_are_listed_and_retried(signed_in: Any, desk: Desk) -> None:
    now = utcnow()
    with desk.db.transaction() as session:
        record = JobRecord(
            name="events.sweep",
            arguments={},
            state="failed",
            attempts=1,
            error="RuntimeError: the database was away",
            queued_at=now,
            run_after=now,
            finished_at=now,
        )
        session.add(record)
        session.flush()
        job_id = record.id
    page = text_of(signed_in.get("/admin/jobs"))
    assert "events.sweep" in page
    assert "periodic" in page
    assert "RuntimeError: the database was away" in page
    assert f"Retry job {job_id} (events.sweep)" in page
    response = signed_in.post(f"/admin/jobs/{job_id}/retry", follow_redirects=True)
    assert f"Job #{job_id} (events.sweep) is queued again." in response.text
    with desk.db.sessionmaker() as session:
        again = session.get(JobRecord, job_id)
        assert again is None or again.state != "failed"  # the queue in memory runs it at once
    response = signed_in.post(f"/admin/jobs/{job_id}/retry", follow_redirects=True)
    assert response.status_code == 200
    assert "No failed jobs." in response.text


# --- Support levels ---------------------------------------------------------------------------


def test_a_group_escalates_to_the_next_level(signed_in: Any, desk: Desk) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        ids = {name: people.create_group(uow, {"name": name}).id for name in ("L1", "L2", "L3")}
    html = signed_in.get(f"/admin/groups/{ids['L1']}").text
    assert 'id="escalates_to"' in html
    assert '<option value="L1"' not in html
    response = signed_in.post(
        f"/admin/groups/{ids['L1']}", data={"name": "L1", "description": "", "escalates_to": "L2"}
    )
    assert response.status_code == 302
    signed_in.post(f"/admin/groups/{ids['L2']}", data={"name": "L2", "description": "", "escalates_to": "L3"})
    with desk.db.sessionmaker() as session:
        assert session.get(Group, ids["L1"]).escalates_to.name == "L2"
    assert '<option value="L2" selected>' in signed_in.get(f"/admin/groups/{ids['L1']}").text

    response = signed_in.post(
        f"/admin/groups/{ids['L3']}", data={"name": "L3", "description": "", "escalates_to": "L1"}
    )
    assert response.status_code == 422
    assert re.search(r'id="escalates_to-error">levels would loop back', response.text)
    # A form without the select (older pages, scripts) leaves the level alone; an empty choice clears it.
    signed_in.post(f"/admin/groups/{ids['L1']}", data={"name": "L1", "description": "first"})
    with desk.db.sessionmaker() as session:
        assert session.get(Group, ids["L1"]).escalates_to.name == "L2"
    signed_in.post(f"/admin/groups/{ids['L1']}", data={"name": "L1", "description": "", "escalates_to": ""})
    with desk.db.sessionmaker() as session:
        assert session.get(Group, ids["L1"]).escalates_to is None
