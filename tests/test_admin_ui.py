"""The admin console through the Flask test client: access, plugins and settings, people, workflow, tokens."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from markupsafe import Markup
from marshmallow import Schema, fields
from sqlalchemy import select

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.models import ApiToken, Group, Organization, PluginSetting, Priority, Status, TicketType, User
from frontdesk.permissions import SYSTEM
from frontdesk.plugins import NavItem
from frontdesk.services import people, tickets


class GadgetSettings(Schema):
    colour = fields.String(load_default="blue")
    retries = fields.Integer(load_default=3)
    loud = fields.Boolean(load_default=False)


class Gadget:
    """A plugin with a nav entry, a ticket sidebar panel and settings."""

    NAME = "gadget"
    TITLE = "Gadget"
    VERSION = "0.1"
    DESCRIPTION = "Adds a gadget to tickets."

    @hookimpl
    def frontdesk_nav_items(self, user: Any) -> list[NavItem]:
        return [NavItem(label="Gadgets", endpoint="/gadgets", weight=70)]

    @hookimpl
    def frontdesk_slot_ticket_sidebar(self, ticket: Any, user: Any) -> Markup:
        return Markup('<section class="gadget-panel">Gadget panel</section>')

    @hookimpl
    def frontdesk_register_settings(self) -> type[Schema]:
        return GadgetSettings


PAGES = [
    "/admin/",
    "/admin/plugins",
    "/admin/users",
    "/admin/groups",
    "/admin/organizations",
    "/admin/workflow",
    "/admin/tokens",
]


def csrf_token(client: Any, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def login(client: Any, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": "password123", "csrf_token": csrf_token(client)})
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


def one(desk: Desk, model: Any, **where: Any) -> Any:
    with desk.db.sessionmaker() as session:
        return session.scalars(select(model).filter_by(**where)).one_or_none()


# --- Who may see the console ------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_an_admin(signed_in: Any, path: str) -> None:
    response = signed_in.get(path)
    assert response.status_code == 200
    assert "Admin" in response.text


@pytest.mark.parametrize("role", ["agent", "requester"])
@pytest.mark.parametrize("path", [*PAGES, "/admin/plugins/webui/settings", "/admin/workflow/statuses/1"])
def test_others_are_refused(client: Any, make_user: Any, role: str, path: str) -> None:
    user = make_user(role=role)
    login(client, user.email)
    assert client.get(path).status_code == 403
    assert client.post(path.rstrip("/") + "/x" if path.endswith("/") else path).status_code in (403, 404, 405)


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_writes_are_refused_for_agents(client: Any, make_user: Any, desk: Desk) -> None:
    agent = make_user(role="agent")
    login(client, agent.email)
    assert client.post("/admin/groups", data={"name": "Sneaky"}).status_code == 403
    assert client.post("/admin/plugins/webui/disable").status_code == 403
    assert one(desk, Group, name="Sneaky") is None


def test_the_nav_shows_admin_to_admins_only(signed_in: Any, client: Any) -> None:
    assert 'href="/admin/"' in signed_in.get("/admin/plugins").text


def test_forms_carry_csrf_tokens(app: Any, signed_in: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert 'name="csrf_token"' in signed_in.get("/admin/users").text
    assert signed_in.post("/admin/groups", data={"name": "NoToken"}).status_code == 400


# --- Plugins ----------------------------------------------------------------------------------


@pytest.mark.frontdesk_plugins("webui", Gadget())
def test_plugins_page_lists_plugins_and_essential_ones_have_no_disable(signed_in: Any) -> None:
    html = signed_in.get("/admin/plugins").text
    assert "Gadget" in html
    assert "0.1" in html
    assert "Adds a gadget to tickets." in html
    assert "/admin/plugins/gadget/disable" in html
    assert "/admin/plugins/webui/disable" not in html
    assert "restart" in html
    assert "/admin/plugins/gadget/settings" in html


@pytest.mark.frontdesk_plugins("webui", Gadget())
def test_disabling_a_plugin_removes_its_nav_entry_at_once_and_enabling_brings_it_back(
    signed_in: Any, desk: Desk
) -> None:
    assert 'href="/gadgets"' in signed_in.get("/admin/plugins").text
    response = signed_in.post("/admin/plugins/gadget/disable", follow_redirects=True)
    assert response.status_code == 200
    assert "is disabled" in response.text
    assert 'href="/gadgets"' not in response.text
    assert "/admin/plugins/gadget/enable" in response.text
    assert signed_in.get("/admin/plugins/gadget/settings").status_code == 404
    response = signed_in.post("/admin/plugins/gadget/enable", follow_redirects=True)
    assert "is enabled" in response.text
    assert 'href="/gadgets"' in response.text


@pytest.mark.frontdesk_plugins("webui", Gadget())
def test_disabling_an_essential_plugin_is_refused_with_a_message(signed_in: Any) -> None:
    response = signed_in.post("/admin/plugins/webui/disable", follow_redirects=True)
    assert "essential" in response.text
    assert signed_in.post("/admin/plugins/nope/enable", follow_redirects=True).status_code == 200


@pytest.mark.frontdesk_plugins("webui", Gadget())
def test_plugin_settings_are_generated_from_the_schema_and_saved(signed_in: Any, desk: Desk) -> None:
    html = signed_in.get("/admin/plugins/gadget/settings").text
    assert re.search(r'name="colour"[^>]*|type="text"', html)
    assert 'type="number"' in html
    assert 'type="checkbox"' in html
    response = signed_in.post(
        "/admin/plugins/gadget/settings", data={"colour": "green", "retries": "5", "loud": "on"}, follow_redirects=True
    )
    assert "saved" in response.text
    with desk.db.sessionmaker() as session:
        stored = {row.key: row.value for row in session.scalars(select(PluginSetting).filter_by(plugin="gadget"))}
    assert stored == {"colour": "green", "retries": 5, "loud": True}


@pytest.mark.frontdesk_plugins("webui", Gadget())
def test_plugin_settings_validation_errors_keep_typed_values(signed_in: Any, desk: Desk) -> None:
    response = signed_in.post("/admin/plugins/gadget/settings", data={"colour": "red", "retries": "many"})
    assert response.status_code == 422
    assert "Not a valid integer" in response.text
    assert 'value="many"' in response.text
    assert 'value="red"' in response.text
    assert one(desk, PluginSetting, plugin="gadget", key="colour") is None, "nothing is saved"


def test_plugins_without_settings_have_no_settings_page(signed_in: Any, register_plugin: Any) -> None:
    class Plain:
        """A plugin without settings."""

    register_plugin(Plain(), "plain")
    assert signed_in.get("/admin/plugins/plain/settings").status_code == 404
    assert signed_in.get("/admin/plugins/nope/settings").status_code == 404
    assert signed_in.get("/admin/plugins/webui/settings").status_code == 200, "the desk settings"


# --- Users ------------------------------------------------------------------------------------


def test_users_are_listed_searched_and_filtered(signed_in: Any, make_user: Any) -> None:
    make_user(email="zed@example.com", name="Zed Requester")
    make_user(email="ann@example.com", name="Ann Agent", role="agent")
    html = signed_in.get("/admin/users").text
    assert "zed@example.com" in html
    assert "ann@example.com" in html
    html = signed_in.get("/admin/users?q=zed").text
    assert "zed@example.com" in html
    assert "ann@example.com" not in html
    html = signed_in.get("/admin/users?role=agent").text
    assert "ann@example.com" in html
    assert "zed@example.com" not in html


def test_admins_create_a_user_with_groups_and_organization(signed_in: Any, desk: Desk) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_organization(uow, {"name": "Acme"})
    response = signed_in.post(
        "/admin/users",
        data={
            "email": "new@example.com",
            "name": "New Agent",
            "role": "agent",
            "password": "longpassword",
            "groups": ["Support"],
        },
    )
    assert response.status_code == 302
    response = signed_in.get(response.headers["Location"])
    assert "New Agent" in response.text
    assert "Support" in response.text
    response = signed_in.post(
        "/admin/users", data={"email": "req@example.com", "name": "Req", "role": "requester", "organization": "Acme"}
    )
    assert response.status_code == 302
    user = one(desk, User, email="req@example.com")
    assert user.organization_id is not None


def test_user_validation_errors_and_conflicts(signed_in: Any, admin: User) -> None:
    response = signed_in.post("/admin/users", data={"email": "not-an-email", "name": "Typed Name", "role": "agent"})
    assert response.status_code == 422
    assert "Not a valid email address" in response.text
    assert 'value="Typed Name"' in response.text
    assert 'value="not-an-email"' in response.text
    response = signed_in.post("/admin/users", data={"email": admin.email, "name": "Again", "role": "agent"})
    assert response.status_code == 409
    assert "already exists" in text_of(response)
    assert "alert-warning" in response.text


def test_admins_edit_a_user_and_their_groups(signed_in: Any, desk: Desk, make_user: Any) -> None:
    agent = make_user(email="ann@example.com", name="Ann", role="agent")
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
    path = f"/admin/users/{agent.id}"
    assert "Ann" in signed_in.get(path).text
    response = signed_in.post(
        path, data={"name": "Ann B", "role": "agent", "active": "on", "all_groups": "on", "password": "newpassword1"}
    )
    assert response.status_code == 302
    saved = one(desk, User, id=agent.id)
    assert saved.name == "Ann B"
    assert saved.all_groups
    assert saved.session_epoch == 1
    assert signed_in.post(f"{path}/groups", data={"group": "Support", "action": "add"}).status_code == 302
    assert "Remove from Support" in signed_in.get(path).text
    response = signed_in.post(f"{path}/groups", data={"group": "Support", "action": "add"}, follow_redirects=True)
    assert "already a member" in response.text
    signed_in.post(f"{path}/groups", data={"group": "Support", "action": "remove"})
    assert "Remove from Support" not in signed_in.get(path).text
    response = signed_in.post(path, data={"name": "", "role": "agent", "active": "on"})
    assert response.status_code == 422
    assert "Must not be blank" in response.text


def test_the_last_admin_cannot_be_demoted(signed_in: Any, admin: User) -> None:
    response = signed_in.post(f"/admin/users/{admin.id}", data={"name": "Root", "role": "agent", "active": "on"})
    assert response.status_code == 409
    assert "last active admin" in response.text
    assert '<option value="agent" selected>' in response.text, "the typed values stay"


# --- Groups and organizations -----------------------------------------------------------------


def test_groups_create_rename_and_members(signed_in: Any, desk: Desk, make_user: Any) -> None:
    agent = make_user(email="ann@example.com", role="agent")
    rita = make_user(email="rita@example.com")
    response = signed_in.post("/admin/groups", data={"name": "Support", "description": "First line"})
    assert response.status_code == 302
    group = one(desk, Group, name="Support")
    assert signed_in.post("/admin/groups", data={"name": "support"}).status_code == 409
    response = signed_in.post("/admin/groups", data={"name": " "})
    assert response.status_code == 422
    assert "Must not be blank" in response.text
    path = f"/admin/groups/{group.id}"
    assert signed_in.post(path, data={"name": "Helpdesk", "description": "Renamed"}).status_code == 302
    assert one(desk, Group, id=group.id).name == "Helpdesk"
    assert signed_in.post(f"{path}/members", data={"email": agent.email, "action": "add"}).status_code == 302
    assert agent.email in signed_in.get(path).text
    response = signed_in.post(f"{path}/members", data={"email": rita.email, "action": "add"})
    assert response.status_code == 422
    assert "only agents and admins join groups" in response.text
    response = signed_in.post(f"{path}/members", data={"email": "ghost@example.com", "action": "add"})
    assert response.status_code == 422
    assert "no user" in response.text
    assert signed_in.post(f"{path}/members", data={"email": agent.email, "action": "remove"}).status_code == 302
    assert "No members yet" in signed_in.get(path).text


def test_organizations_create_rename_and_share(signed_in: Any, desk: Desk) -> None:
    assert signed_in.post("/admin/organizations", data={"name": "Acme"}).status_code == 302
    org = one(desk, Organization, name="Acme")
    assert not org.shared
    assert signed_in.post("/admin/organizations", data={"name": "ACME"}).status_code == 409
    path = f"/admin/organizations/{org.id}"
    assert "Acme" in signed_in.get(path).text
    assert signed_in.post(path, data={"name": "Acme Inc", "shared": "on"}).status_code == 302
    org = one(desk, Organization, id=org.id)
    assert org.name == "Acme Inc"
    assert org.shared
    response = signed_in.post(path, data={"name": "x" * 300})
    assert response.status_code == 422
    assert "At most 200" in response.text


# --- Workflow ---------------------------------------------------------------------------------


def test_workflow_lists_and_creates_entries(signed_in: Any, desk: Desk) -> None:
    html = signed_in.get("/admin/workflow").text
    assert "Statuses" in html
    assert "Priorities" in html
    assert "Ticket types" in html
    response = signed_in.post(
        "/admin/workflow/statuses", data={"name": "Waiting on vendor", "category": "pending", "position": ""}
    )
    assert response.status_code == 302
    assert one(desk, Status, name="Waiting on vendor").category == "pending"
    assert (
        signed_in.post(
            "/admin/workflow/priorities", data={"name": "Critical", "rank": "99", "is_default": "on"}
        ).status_code
        == 302
    )
    assert one(desk, Priority, name="Critical").is_default
    assert signed_in.post("/admin/workflow/types", data={"name": "Bug"}).status_code == 302
    assert one(desk, TicketType, name="Bug") is not None
    assert signed_in.post("/admin/workflow/nope", data={"name": "x"}).status_code == 404


def test_workflow_validation_errors_and_conflicts(signed_in: Any) -> None:
    response = signed_in.post("/admin/workflow/priorities", data={"name": "Odd", "rank": "high"})
    assert response.status_code == 422
    assert "Not a valid integer" in response.text
    assert 'value="high"' in response.text
    response = signed_in.post("/admin/workflow/types", data={"name": "Bug"})
    response = signed_in.post("/admin/workflow/types", data={"name": "bug"})
    assert response.status_code == 409
    assert "already exists" in response.text


def test_workflow_entries_are_edited_and_deleted(signed_in: Any, desk: Desk, make_user: Any) -> None:
    signed_in.post("/admin/workflow/types", data={"name": "Bug"})
    bug = one(desk, TicketType, name="Bug")
    path = f"/admin/workflow/types/{bug.id}"
    assert "Bug" in signed_in.get(path).text
    assert signed_in.post(path, data={"name": "Defect", "position": "5"}).status_code == 302
    assert one(desk, TicketType, id=bug.id).position == 5
    # In use: deleting is refused with the service's message.
    rita = make_user(email="rita@example.com")
    with desk.action(rita, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "Broken", "body": "Help"}).number
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, number, {"type": "Defect"})
    assert 'data-confirm="Delete the type “Defect”?' in text_of(signed_in.get(path))
    asked = signed_in.post(f"{path}/delete")
    assert asked.status_code == 200
    assert "Delete type “Defect”?" in text_of(asked)
    assert 'aria-label="Admin sections"' in asked.text  # asked within the console
    response = signed_in.post(f"{path}/delete", data={"confirm": "yes"})
    assert response.status_code == 409
    assert "1 ticket uses the type" in text_of(response)
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, number, {"type": None})
    assert signed_in.post(f"{path}/delete", data={"confirm": "yes"}).status_code == 302
    assert one(desk, TicketType, id=bug.id) is None


def test_switching_off_the_default_status_is_a_conflict(signed_in: Any, desk: Desk) -> None:
    default = one(desk, Status, category="new", is_default=True)
    response = signed_in.post(
        f"/admin/workflow/statuses/{default.id}",
        data={"name": default.name, "category": "new", "position": str(default.position)},
    )
    assert response.status_code == 409
    assert "make another" in response.text


# --- API tokens -------------------------------------------------------------------------------


def test_tokens_are_created_listed_and_revoked(signed_in: Any, desk: Desk, make_user: Any, admin: User) -> None:
    agent = make_user(email="ann@example.com", role="agent")
    response = signed_in.post(
        "/admin/tokens", data={"user": agent.email, "name": "CI", "scope": "write", "expires_in_days": "30"}
    )
    assert response.status_code == 200
    secret = re.search(r'value="(fd_[^"]+)"', response.text)
    assert secret
    assert "only this once" in response.text
    assert secret.group(1) not in signed_in.get("/admin/tokens").text, "the secret is shown once"
    signed_in.post("/admin/tokens", data={"user": admin.email, "name": "Mine", "scope": "admin"})
    html = signed_in.get("/admin/tokens").text
    assert "CI" in html
    assert "Mine" in html
    html = signed_in.get(f"/admin/tokens?user={agent.email}").text
    assert "CI" in html
    assert "Mine" not in html
    token = one(desk, ApiToken, name="CI")
    assert 'data-confirm="Revoke the token “CI” of ann@example.com?' in text_of(signed_in.get("/admin/tokens"))
    asked = signed_in.post(f"/admin/tokens/{token.id}/revoke")
    assert asked.status_code == 200
    assert f"Revoke API token “CI ({token.prefix}…) of ann@example.com”?" in text_of(asked)
    assert 'aria-label="Admin sections"' in asked.text  # asked within the console
    assert one(desk, ApiToken, id=token.id).revoked_at is None
    assert signed_in.post("/admin/tokens/999999/revoke").status_code == 404, "not asked"
    assert signed_in.post(f"/admin/tokens/{token.id}/revoke", data={"confirm": "yes"}).status_code == 302
    assert one(desk, ApiToken, id=token.id).revoked_at is not None
    assert "No such" not in signed_in.get("/admin/tokens?user=ghost@example.com").text


def test_token_validation_errors(signed_in: Any, make_user: Any) -> None:
    agent = make_user(email="ann@example.com", role="agent")
    response = signed_in.post("/admin/tokens", data={"user": agent.email, "name": "Too much", "scope": "admin"})
    assert response.status_code == 422
    assert "not an admin" in response.text
    assert 'value="Too much"' in response.text
    response = signed_in.post("/admin/tokens", data={"user": "ghost@example.com", "name": "X", "scope": "read"})
    assert response.status_code == 422
    assert "no user" in response.text
