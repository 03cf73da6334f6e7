"""``/api/v1/plugins``: listing, enabling and disabling plugins, for admins (and admin-scope tokens) only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.plugins import PluginStatus
from frontdesk.services import tokens
from frontdesk_webui.api import plugins as plugins_api
from frontdesk_webui.api import register
from frontdesk_webui.app import create_app


class Tunable:
    """Tunes things."""

    NAME = "tunable"
    TITLE = "Tunable"
    VERSION = "1.2.3"


class Dependent:
    NAME = "dependent"
    REQUIRES = ("tunable",)
    DESCRIPTION = "Needs tunable."


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    return ["webui", Tunable(), Dependent()]


def with_plugins_api(app: Flask) -> Flask:
    """The application with the plugins API mounted (if the API does not mount it yet)."""
    if plugins_api.blp.name not in app.blueprints:
        register(app.extensions["flask-smorest"]["apis"][""]["ext_obj"], plugins_api.blp)
    return app


@pytest.fixture
def app(app: Flask) -> Flask:
    return with_plugins_api(app)


@pytest.fixture
def auth(desk: Desk, make_user: Any) -> dict[str, dict[str, str]]:
    """Bearer headers: an admin's admin-scope and write-scope tokens, an agent's and a requester's."""
    make_user(email="root@example.com", role="admin")
    make_user(email="agent@example.com", role="agent")
    make_user(email="rita@example.com")
    headers = {}
    for who, email, scope in (
        ("admin", "root@example.com", "admin"),
        ("admin_write", "root@example.com", "write"),
        ("agent", "agent@example.com", "write"),
        ("requester", "rita@example.com", "write"),
    ):
        with desk.action(SYSTEM, source="test") as uow:
            headers[who] = {"Authorization": f"Bearer {tokens.create_token(uow, {'user': email, 'scope': scope})[1]}"}
    return headers


def status_after_restart(desk: Desk, name: str) -> PluginStatus:
    with desk.reload() as fresh:
        return fresh.plugins.get(name).status


def test_admins_list_the_installed_plugins(client: Any, auth: dict[str, dict[str, str]]) -> None:
    response = client.get("/api/v1/plugins", headers=auth["admin"])
    assert response.status_code == 200
    listed = {plugin["name"]: plugin for plugin in response.json}
    assert list(listed) == ["dependent", "tunable", "webui"]
    assert listed["tunable"] == {
        "name": "tunable",
        "title": "Tunable",
        "version": "1.2.3",
        "status": "enabled",
        "error": None,
        "description": "Tunes things.",
        "requires": [],
        "essential": False,
    }
    assert listed["dependent"]["requires"] == ["tunable"]
    assert listed["dependent"]["description"] == "Needs tunable."
    assert listed["webui"]["essential"] is True


def test_admins_disable_and_enable_a_plugin(desk: Desk, client: Any, auth: dict[str, dict[str, str]]) -> None:
    response = client.post("/api/v1/plugins/dependent/disable", headers=auth["admin"])
    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["status"]) == ("dependent", "disabled")
    assert response.json["restart_required"] is True
    assert status_after_restart(desk, "dependent") is PluginStatus.DISABLED
    # This process still runs it until it restarts.
    assert desk.plugins.get("dependent").status is PluginStatus.ENABLED

    with desk.reload() as restarted:
        app = with_plugins_api(create_app(restarted))
        app.config.update(TESTING=True)
        restarted_client = app.test_client()
        listed = {p["name"]: p["status"] for p in restarted_client.get("/api/v1/plugins", headers=auth["admin"]).json}
        assert listed["dependent"] == "disabled"
        response = restarted_client.post("/api/v1/plugins/dependent/enable", headers=auth["admin"])
        assert response.status_code == 200, response.json
        assert (response.json["status"], response.json["restart_required"]) == ("enabled", True)
    assert status_after_restart(desk, "dependent") is PluginStatus.ENABLED


def test_refusals_are_conflicts(client: Any, auth: dict[str, dict[str, str]]) -> None:
    essential = client.post("/api/v1/plugins/webui/disable", headers=auth["admin"])
    assert essential.status_code == 409
    assert essential.json["code"] == "plugin_error"
    assert "essential" in essential.json["message"]
    required = client.post("/api/v1/plugins/tunable/disable", headers=auth["admin"])
    assert required.status_code == 409
    assert "required by dependent" in required.json["message"]
    enabled = client.post("/api/v1/plugins/tunable/enable", headers=auth["admin"])
    assert enabled.status_code == 409
    assert "already enabled" in enabled.json["message"]
    for action in ("enable", "disable"):
        missing = client.post(f"/api/v1/plugins/nosuch/{action}", headers=auth["admin"])
        assert missing.status_code == 404
        assert missing.json["code"] == "not_found"


@pytest.mark.parametrize("who", ["agent", "requester", "admin_write"])
def test_only_admins_with_an_admin_scope_manage_plugins(
    desk: Desk, client: Any, auth: dict[str, dict[str, str]], who: str
) -> None:
    assert client.get("/api/v1/plugins", headers=auth[who]).status_code == 403
    for path in (
        "/api/v1/plugins/dependent/disable",
        "/api/v1/plugins/tunable/enable",
        "/api/v1/plugins/nosuch/enable",
    ):
        assert client.post(path, headers=auth[who]).status_code == 403
    assert status_after_restart(desk, "dependent") is PluginStatus.ENABLED


def test_anonymous_callers_get_401(client: Any) -> None:
    assert client.get("/api/v1/plugins").status_code == 401
    assert client.post("/api/v1/plugins/dependent/disable").status_code == 401


def csrf_token(client: Any, path: str = "/login") -> str:
    """The CSRF token of the browser's session, from a page (a form field or the page's meta tag)."""
    page = client.get(path, follow_redirects=True).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    assert match, "the page carries a CSRF token"
    return match.group(1)


def test_a_signed_in_admin_manages_plugins_from_the_browser(client: Any, make_user: Any) -> None:
    make_user(email="root@example.com", role="admin")
    login = {"email": "root@example.com", "password": "password123", "csrf_token": csrf_token(client, "/login")}
    assert client.post("/login", data=login).status_code == 302
    token = csrf_token(client, "/")
    assert client.get("/api/v1/plugins").status_code == 200
    assert client.post("/api/v1/plugins/dependent/disable").status_code == 400  # no CSRF token
    response = client.post("/api/v1/plugins/dependent/disable", headers={"X-CSRFToken": token})
    assert response.status_code == 200
