"""Every route of the web application, called by every kind of user, for their own and a foreign object.

The expected outcome of each route lives in ``POLICIES`` below. A route missing from the table fails
the test, so no endpoint (a plugin's included) can appear without someone deciding who may call it.
Outcomes are judged on the authorization dimension only: 401 (who are you?), 403 (not allowed),
404 (not yours: no existence oracle), or allowed (anything else below 500).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.models import JobRecord
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation, catalog, comments, macros, people, tickets, tokens
from frontdesk.services import views as saved_views
from frontdesk.storage import Upload

ACTORS = ("anonymous", "requester_a", "requester_b", "agent_in", "agent_out", "admin")
STAFF = {"agent_in", "agent_out", "admin"}
# Ticket "a" belongs to requester_a and group Support (agent_in's); ticket "b" to requester_b and Network.
VISIBLE = {
    "a": {"requester_a", "agent_in", "admin"},
    "b": {"requester_b", "agent_out", "admin"},
}


@dataclass(frozen=True)
class Call:
    actor: str
    target: str  # "a" or "b": whose ticket (and requester) the path and body refer to


Expectation = Callable[[Call], str]


def public(call: Call) -> str:
    return "allowed"


def signed_in(call: Call) -> str:
    return "401" if call.actor == "anonymous" else "allowed"


def to_login(call: Call) -> str:
    """Signing out: everyone ends on the sign-in page."""
    return "302"


def page(call: Call) -> str:
    return "302" if call.actor == "anonymous" else "allowed"


def agent_page(call: Call) -> str:
    """Agent workspace pages: sign in first; requesters are turned away."""
    if call.actor == "anonymous":
        return "302"
    return "allowed" if call.actor in STAFF else "403"


def agent_ticket_page(call: Call) -> str:
    outcome = agent_page(call)
    if outcome == "allowed" and call.actor not in VISIBLE[call.target]:
        return "404"
    return outcome


def signup_page(call: Call) -> str:
    """Sign-up is closed on a new desk (404); someone signed in is sent home."""
    return "404" if call.actor == "anonymous" else "allowed"


def own_macro_page(call: Call) -> str:
    """An agent's personal macro: the macros of the matrix are shared, so they are nobody's to edit here."""
    outcome = agent_page(call)
    return "404" if outcome == "allowed" else outcome


def admin_page(call: Call) -> str:
    """The admin console: sign in first; only admins."""
    if call.actor == "anonymous":
        return "302"
    return "allowed" if call.actor == "admin" else "403"


def agent_group_page(call: Call) -> str:
    """A group's queue: members of the group and agents who see every group (admins)."""
    outcome = agent_page(call)
    if outcome == "allowed" and call.actor not in VISIBLE[call.target]:
        return "404"
    return outcome


def portal_page(call: Call) -> str:
    """Portal pages: sign in first (staff are sent on to the agent workspace)."""
    return "302" if call.actor == "anonymous" else "allowed"


def portal_request_page(call: Call) -> str:
    """One request in the portal: its requester (or whoever may see it); staff are sent to the workspace."""
    outcome = portal_page(call)
    if outcome == "allowed" and call.actor not in STAFF and call.actor not in VISIBLE[call.target]:
        return "404"
    return outcome


def own_token(call: Call) -> str:
    """Revoking a token: its owner (requester "a" or "b") or an admin; anyone else is told it does not exist."""
    if call.actor == "anonymous":
        return "401"
    return "allowed" if call.actor in ("admin", f"requester_{call.target}") else "404"


def token_create(call: Call) -> str:
    """New tokens through the API need an admin-scope token (the others here hold write scope)."""
    if call.actor == "anonymous":
        return "401"
    return "allowed" if call.actor == "admin" else "403"


def ticket_read(call: Call) -> str:
    if call.actor == "anonymous":
        return "401"
    return "allowed" if call.actor in VISIBLE[call.target] else "404"


def ticket_staff(call: Call) -> str:
    """Agent work on a ticket: requesters are refused outright, agents see only their tickets."""
    if call.actor == "anonymous":
        return "401"
    if call.actor not in STAFF:
        return "403"
    return "allowed" if call.actor in VISIBLE[call.target] else "404"


def ticket_history(call: Call) -> str:
    """Visibility first (no oracle), then the staff-only rule."""
    outcome = ticket_read(call)
    return "403" if outcome == "allowed" and call.actor not in STAFF else outcome


def staff_only(call: Call) -> str:
    if call.actor == "anonymous":
        return "401"
    return "allowed" if call.actor in STAFF else "403"


def admin_only(call: Call) -> str:
    if call.actor == "anonymous":
        return "401"
    return "allowed" if call.actor == "admin" else "403"


def user_read(call: Call) -> str:
    """Staff read any user; a requester only themselves."""
    if call.actor == "anonymous":
        return "401"
    if call.actor in STAFF or call.actor == f"requester_{call.target}":
        return "allowed"
    return "404"


def organization_read(call: Call) -> str:
    """Staff read any organization; a requester only their own."""
    return user_read(call)


# (method, rule) -> expectation. Rules are Flask URL rules of the application.
POLICIES: dict[tuple[str, str], Expectation] = {
    ("GET", "/"): page,
    ("GET", "/account"): page,
    ("GET", "/agent/"): agent_page,
    ("GET", "/agent/rail"): agent_page,
    ("GET", "/agent/dashboard"): agent_page,
    ("GET", "/agent/views/recent"): agent_page,
    ("GET", "/agent/views/all"): agent_page,
    ("GET", "/agent/views/unassigned"): agent_page,
    ("GET", "/agent/groups/<int:group_id>"): agent_group_page,
    ("POST", "/agent/bulk"): agent_page,
    ("GET", "/agent/tickets/<int:number>"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/comments"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/properties"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/links"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/links/<int:other>/delete"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/merge"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/macro"): agent_ticket_page,
    ("POST", "/agent/tickets/<int:number>/escalate"): agent_ticket_page,
    ("GET", "/agent/saved/<int:view_id>"): agent_page,
    ("POST", "/agent/saved"): agent_page,
    ("POST", "/agent/saved/<int:view_id>/delete"): admin_page,  # the matrix's views are shared ones
    ("GET", "/api/v1/views"): staff_only,
    ("POST", "/api/v1/views"): staff_only,
    ("GET", "/api/v1/views/<int:view_id>"): staff_only,
    ("DELETE", "/api/v1/views/<int:view_id>"): admin_only,
    ("GET", "/agent/macros/"): agent_page,
    ("POST", "/agent/macros/"): agent_page,
    ("GET", "/agent/macros/<int:macro_id>"): own_macro_page,
    ("POST", "/agent/macros/<int:macro_id>"): own_macro_page,
    ("POST", "/agent/macros/<int:macro_id>/delete"): own_macro_page,
    ("GET", "/signup"): signup_page,
    ("POST", "/signup"): signup_page,
    ("GET", "/admin/settings"): admin_page,
    ("POST", "/admin/settings"): admin_page,
    ("GET", "/notifications/"): page,
    ("POST", "/notifications/read"): page,
    ("GET", "/admin/"): admin_page,
    ("GET", "/admin/plugins"): admin_page,
    ("POST", "/admin/plugins/<name>/enable"): admin_page,
    ("POST", "/admin/plugins/<name>/disable"): admin_page,
    ("GET", "/admin/plugins/<name>/settings"): admin_page,
    ("POST", "/admin/plugins/<name>/settings"): admin_page,
    ("GET", "/admin/users"): admin_page,
    ("POST", "/admin/users"): admin_page,
    ("GET", "/admin/users/<int:user_id>"): admin_page,
    ("POST", "/admin/users/<int:user_id>"): admin_page,
    ("POST", "/admin/users/<int:user_id>/groups"): admin_page,
    ("GET", "/admin/groups"): admin_page,
    ("POST", "/admin/groups"): admin_page,
    ("GET", "/admin/groups/<int:group_id>"): admin_page,
    ("POST", "/admin/groups/<int:group_id>"): admin_page,
    ("POST", "/admin/groups/<int:group_id>/members"): admin_page,
    ("GET", "/admin/organizations"): admin_page,
    ("POST", "/admin/organizations"): admin_page,
    ("GET", "/admin/organizations/<int:org_id>"): admin_page,
    ("POST", "/admin/organizations/<int:org_id>"): admin_page,
    ("GET", "/admin/workflow"): admin_page,
    ("GET", "/admin/automation"): admin_page,
    ("GET", "/admin/automation/export"): admin_page,
    ("POST", "/admin/automation/import"): admin_page,
    ("GET", "/admin/automation/new"): admin_page,
    ("POST", "/admin/automation/new"): admin_page,
    ("GET", "/admin/automation/<int:rule_id>"): admin_page,
    ("POST", "/admin/automation/<int:rule_id>"): admin_page,
    ("POST", "/admin/automation/<int:rule_id>/toggle"): admin_page,
    ("POST", "/admin/automation/<int:rule_id>/move"): admin_page,
    ("POST", "/admin/automation/<int:rule_id>/delete"): admin_page,
    ("GET", "/admin/automation/macros"): admin_page,
    ("GET", "/admin/automation/macros/new"): admin_page,
    ("POST", "/admin/automation/macros/new"): admin_page,
    ("GET", "/admin/automation/macros/<int:macro_id>"): admin_page,
    ("POST", "/admin/automation/macros/<int:macro_id>"): admin_page,
    ("POST", "/admin/automation/macros/<int:macro_id>/delete"): admin_page,
    ("GET", "/admin/automation/notifications"): admin_page,
    ("POST", "/admin/automation/notifications/<kind>"): admin_page,
    ("GET", "/admin/jobs"): admin_page,
    ("POST", "/admin/jobs/<int:job_id>/retry"): admin_page,
    ("POST", "/admin/workflow/<kind>"): admin_page,
    ("GET", "/admin/workflow/<kind>/<int:entry_id>"): admin_page,
    ("POST", "/admin/workflow/<kind>/<int:entry_id>"): admin_page,
    ("POST", "/admin/workflow/<kind>/<int:entry_id>/delete"): admin_page,
    ("GET", "/admin/tokens"): admin_page,
    ("POST", "/admin/tokens"): admin_page,
    ("POST", "/admin/tokens/<int:token_id>/revoke"): admin_page,
    ("GET", "/portal/"): portal_page,
    ("GET", "/portal/new"): portal_page,
    ("POST", "/portal/new"): portal_page,
    ("GET", "/portal/requests/<int:number>"): portal_request_page,
    ("POST", "/portal/requests/<int:number>/reply"): portal_request_page,
    ("POST", "/portal/requests/<int:number>/status"): portal_request_page,
    ("GET", "/health"): public,
    ("GET", "/login"): public,
    ("POST", "/login"): public,
    ("POST", "/logout"): to_login,
    ("POST", "/logout/everywhere"): to_login,
    ("GET", "/api/docs"): public,
    ("GET", "/api/openapi.json"): public,
    ("GET", "/static/<path:filename>"): public,
    ("GET", "/api/v1/me"): signed_in,
    ("GET", "/api/v1/tickets"): signed_in,
    ("POST", "/api/v1/tickets"): signed_in,
    ("POST", "/api/v1/tickets/bulk"): signed_in,
    ("GET", "/api/v1/tickets/<int:number>"): ticket_read,
    ("PATCH", "/api/v1/tickets/<int:number>"): ticket_read,
    ("GET", "/api/v1/tickets/<int:number>/comments"): ticket_read,
    ("POST", "/api/v1/tickets/<int:number>/comments"): ticket_read,
    ("POST", "/api/v1/tickets/<int:number>/comments/upload"): ticket_read,
    ("GET", "/api/v1/tickets/<int:number>/links"): ticket_read,
    ("POST", "/api/v1/tickets/<int:number>/links"): ticket_staff,
    ("DELETE", "/api/v1/tickets/<int:number>/links/<int:other>"): ticket_staff,
    ("POST", "/api/v1/tickets/<int:number>/merge"): ticket_staff,
    ("GET", "/api/v1/tickets/<int:number>/history"): ticket_history,
    ("GET", "/api/v1/attachments/<int:attachment_id>"): ticket_read,
    ("GET", "/api/v1/tokens"): signed_in,
    ("POST", "/api/v1/tokens"): token_create,
    ("DELETE", "/api/v1/tokens/<int:token_id>"): own_token,
    ("GET", "/api/v1/plugins"): admin_only,
    ("POST", "/api/v1/plugins/<name>/enable"): admin_only,
    ("POST", "/api/v1/plugins/<name>/disable"): admin_only,
    ("GET", "/api/v1/users"): staff_only,
    ("POST", "/api/v1/users"): admin_only,
    ("GET", "/api/v1/users/<int:user_id>"): user_read,
    ("PATCH", "/api/v1/users/<int:user_id>"): admin_only,
    ("GET", "/api/v1/organizations"): signed_in,
    ("POST", "/api/v1/organizations"): admin_only,
    ("GET", "/api/v1/organizations/<int:org_id>"): organization_read,
    ("PATCH", "/api/v1/organizations/<int:org_id>"): admin_only,
    ("GET", "/api/v1/groups"): staff_only,
    ("POST", "/api/v1/groups"): admin_only,
    ("GET", "/api/v1/groups/<int:group_id>"): staff_only,
    ("PATCH", "/api/v1/groups/<int:group_id>"): admin_only,
    ("POST", "/api/v1/groups/<int:group_id>/members"): admin_only,
    ("DELETE", "/api/v1/groups/<int:group_id>/members/<int:user_id>"): admin_only,
    ("GET", "/api/v1/statuses"): signed_in,
    ("POST", "/api/v1/statuses"): admin_only,
    ("GET", "/api/v1/statuses/<int:status_id>"): signed_in,
    ("PATCH", "/api/v1/statuses/<int:status_id>"): admin_only,
    ("DELETE", "/api/v1/statuses/<int:status_id>"): admin_only,
    ("GET", "/api/v1/priorities"): signed_in,
    ("POST", "/api/v1/priorities"): admin_only,
    ("GET", "/api/v1/priorities/<int:priority_id>"): signed_in,
    ("PATCH", "/api/v1/priorities/<int:priority_id>"): admin_only,
    ("DELETE", "/api/v1/priorities/<int:priority_id>"): admin_only,
    ("GET", "/api/v1/types"): signed_in,
    ("POST", "/api/v1/types"): admin_only,
    ("GET", "/api/v1/types/<int:type_id>"): signed_in,
    ("PATCH", "/api/v1/types/<int:type_id>"): admin_only,
    ("DELETE", "/api/v1/types/<int:type_id>"): admin_only,
    ("GET", "/api/v1/tags"): staff_only,
    ("GET", "/api/v1/automation/rules"): admin_only,
    ("POST", "/api/v1/automation/rules"): admin_only,
    ("GET", "/api/v1/automation/rules/<int:rule_id>"): admin_only,
    ("PATCH", "/api/v1/automation/rules/<int:rule_id>"): admin_only,
    ("DELETE", "/api/v1/automation/rules/<int:rule_id>"): admin_only,
    ("POST", "/api/v1/automation/rules/<int:rule_id>/move"): admin_only,
    ("POST", "/api/v1/automation/dry-run"): admin_only,
    ("GET", "/api/v1/automation/export"): admin_only,
    ("POST", "/api/v1/automation/import"): admin_only,
    ("GET", "/api/v1/automation/templates"): admin_only,
    ("PUT", "/api/v1/automation/templates/<kind>"): admin_only,
    ("DELETE", "/api/v1/automation/templates/<kind>"): admin_only,
    ("GET", "/api/v1/tickets/<int:number>/automation-log"): ticket_staff,
    ("GET", "/api/v1/macros"): staff_only,
    ("POST", "/api/v1/macros"): staff_only,
    ("GET", "/api/v1/macros/<int:macro_id>"): staff_only,  # the world's macros are shared ones
    ("PATCH", "/api/v1/macros/<int:macro_id>"): admin_only,  # shared macros: admins change them
    ("DELETE", "/api/v1/macros/<int:macro_id>"): admin_only,
    ("POST", "/api/v1/tickets/<int:number>/macros/<int:macro_id>"): ticket_staff,
    ("POST", "/api/v1/tickets/<int:number>/escalate"): ticket_staff,
    ("GET", "/api/v1/me/notifications"): signed_in,
    ("POST", "/api/v1/me/notifications/read"): signed_in,
    ("GET", "/api/v1/jobs"): admin_only,
    ("GET", "/api/v1/jobs/failed"): admin_only,
    ("POST", "/api/v1/jobs/<int:job_id>/retry"): admin_only,
}


def routes(app: Any) -> list[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return sorted(found)


def test_every_route_has_a_policy(app: Any) -> None:
    missing = [route for route in routes(app) if route not in POLICIES]
    assert missing == [], "decide who may call these routes and add them to POLICIES"
    stale = [route for route in POLICIES if route not in routes(app)]
    assert stale == [], "these routes no longer exist"


@pytest.fixture
def world(desk: Desk, make_user: Any) -> dict[str, Any]:
    """Two organizations, two groups, one ticket each (with a reply and an attachment), spare workflow values."""
    with desk.action(SYSTEM, source="test") as uow:
        groups = {name: people.create_group(uow, {"name": name}).id for name in ("Support", "Network")}
        for org in ("ACME", "Beta"):
            people.create_organization(uow, {"name": org})
        spares = {
            target: {
                "status_id": catalog.create_status(uow, {"name": f"spare {target}", "category": "open"}).id,
                "priority_id": catalog.create_priority(uow, {"name": f"spare {target}", "rank": rank}).id,
                "type_id": catalog.create_type(uow, {"name": f"spare {target}"}).id,
                "entry_id": catalog.create_status(uow, {"name": f"console {target}", "category": "open"}).id,
            }
            for target, rank in (("a", 5), ("b", 6))
        }
    users = {
        "requester_a": make_user(email="a@acme.example", organization="ACME"),
        "requester_b": make_user(email="b@beta.example", organization="Beta"),
        "agent_in": make_user(email="in@example.com", role="agent", groups=["Support"]),
        "agent_out": make_user(email="out@example.com", role="agent", groups=["Network"]),
        "admin": make_user(role="admin"),
    }
    ids: dict[str, dict[str, Any]] = {}
    for target, requester, group, member in (
        ("a", "a@acme.example", "Support", "agent_in"),
        ("b", "b@beta.example", "Network", "agent_out"),
    ):
        with desk.action(SYSTEM, source="test") as uow:
            ticket = tickets.create_ticket(uow, {"subject": f"Ticket {target}", "requester": requester, "group": group})
            sibling = tickets.create_ticket(
                uow, {"subject": f"Sibling {target}", "requester": requester, "group": group}
            )
        with desk.action(SYSTEM, source="test") as uow:
            reply = comments.add_comment(
                uow, ticket.number, {"body": "See attached"}, [Upload("log.txt", io.BytesIO(b"log"))]
            )
            attachment_id = reply.attachments[0].id
        with desk.action(SYSTEM, source="test") as uow:
            token, _ = tokens.create_token(uow, {"user": requester, "name": "t"})
        with desk.action(SYSTEM, source="test") as uow:
            rule = automation.create_rule(
                uow,
                {
                    "name": f"Rule {target}",
                    "enabled": False,
                    "events": ["ticket.created"],
                    "actions": [{"type": "add_tags", "tags": [target]}],
                },
            )
            macro = macros.create_macro(uow, {"name": f"Macro {target}", "body": "Hello", "shared": True})
            saved = saved_views.create_view(uow, {"name": f"View {target}", "shared": True})
            api_saved = saved_views.create_view(uow, {"name": f"API view {target}", "shared": True})
            job = JobRecord(name="matrix.gone", arguments={}, state="failed", attempts=1, error="boom")
            uow.session.add(job)
            uow.session.flush()
        ids[target] = {
            **spares[target],
            "number": ticket.number,
            "other": sibling.number,
            "attachment_id": attachment_id,
            "user_id": users[f"requester_{target}"].id,
            "member_id": users[member].id,
            "org_id": users[f"requester_{target}"].organization_id,
            "group_id": groups[group],
            "token_id": token.id,
            "name": "nonexistent",
            "kind": "statuses",
            "filename": "frontdesk.css",
            "rule_id": rule.id,
            "macro_id": macro.id,
            "view_id": saved.id,
            "api_view_id": api_saved.id,
            "job_id": job.id,
        }
    secrets = {}
    for actor, user in users.items():
        with desk.action(SYSTEM, source="test") as uow:
            scope = "admin" if actor == "admin" else "write"
            secrets[actor] = tokens.create_token(uow, {"user": user.email, "scope": scope, "name": "matrix"})[1]
    return {"users": users, "ids": ids, "secrets": secrets}


def path_for(rule: str, ids: dict[str, Any]) -> str:
    values = dict(ids)
    if "/members/" in rule:
        values["user_id"] = ids["member_id"]
    if rule.startswith("/api/v1/views/"):  # the web page deletes its own view
        values["view_id"] = ids["api_view_id"]
    return re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def payload(method: str, rule: str, other_ticket: int, n: int) -> dict[str, Any]:
    """A valid request body, so that only authorization can make the call fail."""
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/login"): {"data": {"email": "admin-member@example.com", "password": "password123"}},
        ("POST", "/api/v1/tickets"): {"json": {"subject": "New one"}},
        ("POST", "/api/v1/tickets/bulk"): {"json": {"ids": [other_ticket], "changes": {"add_tags": ["bulk"]}}},
        ("PATCH", "/api/v1/tickets/<int:number>"): {"json": {"add_ccs": []}},
        ("POST", "/api/v1/tickets/<int:number>/comments"): {"json": {"body": "Any news?"}},
        ("POST", "/api/v1/tickets/<int:number>/comments/upload"): {
            "data": {"body": "File", "files": (io.BytesIO(b"data"), "note.txt")}
        },
        ("POST", "/api/v1/tickets/<int:number>/links"): {"json": {"ticket": other_ticket, "kind": "related"}},
        ("POST", "/api/v1/tickets/<int:number>/merge"): {"json": {"into": other_ticket}},
        ("POST", "/agent/tickets/<int:number>/comments"): {"data": {"body": "Hello", "visibility": "public"}},
        ("POST", "/agent/tickets/<int:number>/links"): {"data": {"other": other_ticket, "kind": "related"}},
        ("POST", "/agent/tickets/<int:number>/merge"): {"data": {"into": other_ticket, "confirm": "yes"}},
        ("POST", "/agent/bulk"): {"data": {"ids": other_ticket, "action": "assign_me"}},
        ("POST", "/portal/new"): {"data": {"subject": "From the portal", "description": "Details"}},
        ("POST", "/portal/requests/<int:number>/reply"): {"data": {"body": "Thanks"}},
        ("POST", "/portal/requests/<int:number>/status"): {"data": {"action": "solve"}},
        ("POST", "/api/v1/tokens"): {"json": {"name": f"new {n}"}},
        ("POST", "/api/v1/users"): {"json": {"email": f"new{n}@example.com", "name": "New"}},
        ("PATCH", "/api/v1/users/<int:user_id>"): {"json": {"name": "Renamed"}},
        ("POST", "/api/v1/organizations"): {"json": {"name": f"Org {n}"}},
        ("PATCH", "/api/v1/organizations/<int:org_id>"): {"json": {"shared": True}},
        ("POST", "/api/v1/groups"): {"json": {"name": f"Group {n}"}},
        ("PATCH", "/api/v1/groups/<int:group_id>"): {"json": {"description": "Renamed"}},
        ("POST", "/api/v1/groups/<int:group_id>/members"): {"json": {"email": "admin-member@example.com"}},
        ("POST", "/api/v1/statuses"): {"json": {"name": f"status {n}", "category": "open"}},
        ("PATCH", "/api/v1/statuses/<int:status_id>"): {"json": {"position": 99}},
        ("POST", "/api/v1/priorities"): {"json": {"name": f"priority {n}", "rank": 100 + n}},
        ("PATCH", "/api/v1/priorities/<int:priority_id>"): {"json": {"rank": 200 + n}},
        ("POST", "/api/v1/types"): {"json": {"name": f"type {n}"}},
        ("PATCH", "/api/v1/types/<int:type_id>"): {"json": {"position": 99}},
    }
    return bodies.get((method, rule), {})


def classify(response: Any) -> str:
    """The authorization meaning of an answer; a redirect means "sign in first" only when it goes to /login."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status in (301, 302, 303):
        return "302" if response.headers["Location"].startswith("/login") else "allowed"
    if status in (401, 403, 404):
        return str(status)
    return "allowed"


METHOD_ORDER = {"GET": 0, "POST": 1, "PATCH": 2, "PUT": 2, "DELETE": 3}


@pytest.mark.parametrize("actor", ACTORS)
def test_authorization_matrix(app: Any, world: dict[str, Any], actor: str, make_user: Any) -> None:
    """Each route, as ``actor``, against ticket (and requester) "a" and "b"; destructive calls last."""
    make_user(email="admin-member@example.com", role="agent")
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests; here only authorization counts
    browser = app.test_client()
    if actor != "anonymous":
        signed_in = browser.post("/login", data={"email": world["users"][actor].email, "password": "password123"})
        assert signed_in.status_code == 302
    failures = []
    calls = sorted(routes(app), key=lambda route: (METHOD_ORDER[route[0]], route[1]))
    for n, (method, rule) in enumerate(calls):
        expectation = POLICIES[(method, rule)]
        for target in ("a", "b"):
            other = world["ids"][target]["other"]
            path = path_for(rule, world["ids"][target])
            api = path.startswith("/api/v1/")
            headers = {"Authorization": f"Bearer {world['secrets'][actor]}"} if api and actor != "anonymous" else {}
            expected = expectation(Call(actor, target))
            body = payload(method, rule, other, n * 2 + (target == "b"))
            if rule in ("/login", "/logout", "/logout/everywhere"):
                client = app.test_client()  # signing in or out must not end the session used for the pages
            else:
                client = app.test_client() if api else browser
            response = client.open(path, method=method, headers=headers, **body)
            got = classify(response)
            response.close()
            if got != expected and not (expected == "allowed" and got == "404" and "<int:" not in rule):
                failures.append(f"{method} {path} as {actor} for {target}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)
