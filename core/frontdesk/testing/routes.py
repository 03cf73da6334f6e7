"""Helpers for a plugin's route-policy test: which routes it serves, signing in, and what counts as refused.

A plugin keeps its own table of who may call each route; ``plugin_routes`` lets the test fail when a
route has no entry, so no endpoint appears without someone deciding who may call it.
"""

from __future__ import annotations

from typing import Any

from frontdesk.testing.pytest_plugin import DEFAULT_PASSWORD

ROLES = ("anonymous", "requester", "agent", "admin")


def plugin_routes(app: Any, plugin: str) -> set[tuple[str, str, str]]:
    """``(endpoint, method, rule)`` of every route of the plugin's blueprints (its pages and its API)."""
    blueprints = {plugin, f"{plugin}_api"}
    return {
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in blueprints
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def sign_in(client: Any, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign the test client in (the account must exist; tests create people with ``make_user``)."""
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, f"could not sign in as {email}"


def refused(response: Any) -> bool:
    """Whether a response turns the caller away: 401, 403, 404 (not theirs to know of), or to the sign-in page."""
    to_login = response.status_code == 302 and "/login" in response.headers.get("Location", "")
    return to_login or response.status_code in (401, 403, 404)
