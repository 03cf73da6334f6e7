"""``/api/v1/tokens``: the secret shown once, bearer authentication, scopes, revocation and CSRF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import tokens
from frontdesk_webui.api import register
from frontdesk_webui.api import tokens as tokens_api


@pytest.fixture
def app(app: Flask) -> Flask:
    """The application with the tokens API mounted (if the API does not mount it yet)."""
    if tokens_api.blp.name not in app.blueprints:
        register(app.extensions["flask-smorest"]["apis"][""]["ext_obj"], tokens_api.blp)
    return app


def csrf_token(client: Any, path: str = "/login") -> str:
    """The CSRF token of the browser's session, from a page (a form field or the page's meta tag)."""
    page = client.get(path, follow_redirects=True).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page
    )
    assert match, "the page carries a CSRF token"
    return match.group(1)


def sign_in(client: Any, email: str) -> dict[str, str]:
    """Sign the browser in; return the header that carries its CSRF token on API calls."""
    response = client.post("/login", data={"email": email, "password": "password123", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return {"X-CSRFToken": csrf_token(client, "/")}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def service_token(desk: Desk, email: str, scope: str) -> str:
    with desk.action(SYSTEM, source="test") as uow:
        return tokens.create_token(uow, {"user": email, "scope": scope})[1]


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {
        "ann": make_user(email="ann@example.com", name="Ann"),
        "bob": make_user(email="bob@example.com", name="Bob"),
        "admin": make_user(email="root@example.com", name="Root", role="admin"),
    }


def test_create_shows_the_secret_once_and_the_list_hides_it(client: Any, people: dict[str, Any]) -> None:
    csrf = sign_in(client, "ann@example.com")
    response = client.post(
        "/api/v1/tokens", json={"name": "laptop", "scope": "write", "expires_in_days": 30}, headers=csrf
    )
    assert response.status_code == 201, response.json
    created = response.json
    secret = created["token"]
    assert secret.startswith("fd_")
    assert created["prefix"] == secret[:8]
    assert (created["name"], created["scope"], created["state"], created["user"]) == (
        "laptop",
        "write",
        "active",
        "ann@example.com",
    )
    assert created["expires_at"] is not None
    listed = client.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert [token["id"] for token in listed.json] == [created["id"]]
    assert "token" not in listed.json[0]
    assert secret not in listed.text
    assert secret[8:] not in listed.text
    assert {k: v for k, v in created.items() if k != "token"} == listed.json[0]


def test_a_token_is_a_bearer_credential_and_the_cookie_is_ignored(
    client: Any, desk: Desk, people: dict[str, Any]
) -> None:
    bob = service_token(desk, "bob@example.com", "write")
    anonymous = client.get("/api/v1/me", headers=bearer(bob))
    assert (anonymous.status_code, anonymous.json["email"]) == (200, "bob@example.com")
    sign_in(client, "ann@example.com")
    assert client.get("/api/v1/me").json["email"] == "ann@example.com"
    # The same browser, now with Bob's token: the token alone says who calls.
    assert client.get("/api/v1/me", headers=bearer(bob)).json["email"] == "bob@example.com"
    wrong = client.get("/api/v1/me", headers=bearer("fd_not-a-real-token"))
    assert wrong.status_code == 401  # no falling back to the session
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/me", headers={"Authorization": "Basic YW5uOnB3"}).status_code == 401


def test_an_admin_creates_a_token_for_someone_else(client: Any, people: dict[str, Any]) -> None:
    csrf = sign_in(client, "root@example.com")
    response = client.post("/api/v1/tokens", json={"name": "bob's", "user": "bob@example.com"}, headers=csrf)
    assert response.status_code == 201, response.json
    assert response.json["user"] == "bob@example.com"
    assert client.get("/api/v1/me", headers=bearer(response.json["token"])).json["email"] == "bob@example.com"
    client.post("/logout", data={"csrf_token": csrf["X-CSRFToken"]})
    csrf = sign_in(client, "ann@example.com")
    refused = client.post("/api/v1/tokens", json={"name": "bob's", "user": "bob@example.com"}, headers=csrf)
    assert refused.status_code == 403


def test_a_read_token_cannot_change_anything(client: Any, desk: Desk, people: dict[str, Any]) -> None:
    secret = service_token(desk, "ann@example.com", "read")
    assert client.get("/api/v1/tokens", headers=bearer(secret)).status_code == 200
    for method, path, body in (
        ("post", "/api/v1/tickets", {"subject": "Hi", "body": "x"}),
        ("post", "/api/v1/tokens", {"name": "more"}),
        ("delete", "/api/v1/tokens/1", None),
    ):
        response = getattr(client, method)(path, json=body, headers=bearer(secret))
        assert response.status_code == 403, (method, path)
        assert "'read' scope" in response.json["message"]


def test_only_an_admin_scope_token_creates_tokens(client: Any, desk: Desk, people: dict[str, Any]) -> None:
    write = service_token(desk, "root@example.com", "write")
    refused = client.post("/api/v1/tokens", json={"name": "more"}, headers=bearer(write))
    assert refused.status_code == 403
    assert "needs 'admin'" in refused.json["message"]
    admin = service_token(desk, "root@example.com", "admin")
    created = client.post("/api/v1/tokens", json={"name": "more", "scope": "admin"}, headers=bearer(admin))
    assert created.status_code == 201
    assert created.json["scope"] == "admin"


def test_revoked_tokens_answer_401(client: Any, desk: Desk, people: dict[str, Any]) -> None:
    secret = service_token(desk, "ann@example.com", "write")
    listed = client.get("/api/v1/tokens", headers=bearer(secret)).json
    token_id = listed[0]["id"]
    response = client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(secret))
    assert response.status_code == 204
    assert response.data == b""
    again = client.get("/api/v1/me", headers=bearer(secret))
    assert again.status_code == 401
    assert again.json["message"] == "This API token is unknown, expired or revoked."
    csrf = sign_in(client, "ann@example.com")
    assert client.get("/api/v1/tokens").json[0]["state"] == "revoked"
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=csrf).status_code == 204  # twice is fine


def test_token_requests_need_no_csrf_but_cookie_posts_do(app: Flask, client: Any, desk: Desk, people: Any) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)
    admin = service_token(desk, "root@example.com", "admin")
    assert client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(admin)).status_code == 201
    csrf = sign_in(client, "ann@example.com")
    refused = client.post("/api/v1/tokens", json={"name": "x"})
    assert refused.status_code == 400
    assert "CSRF" in refused.json["message"]
    assert client.post("/api/v1/tokens", json={"name": "x"}, headers=csrf).status_code == 201
    assert client.delete("/api/v1/tokens/1").status_code == 400


def test_admins_list_and_revoke_other_peoples_tokens(client: Any, desk: Desk, people: dict[str, Any]) -> None:
    ann = service_token(desk, "ann@example.com", "write")
    bob = service_token(desk, "bob@example.com", "write")
    ann_id = client.get("/api/v1/tokens", headers=bearer(ann)).json[0]["id"]
    # Others' tokens: not for requesters (listing: 403; revoking: as if it did not exist).
    assert client.get("/api/v1/tokens?user=ann@example.com", headers=bearer(bob)).status_code == 403
    assert client.delete(f"/api/v1/tokens/{ann_id}", headers=bearer(bob)).status_code == 404
    # An admin's write token may not act on others' tokens; an admin-scope token may.
    write = service_token(desk, "root@example.com", "write")
    assert client.get("/api/v1/tokens?user=ann@example.com", headers=bearer(write)).status_code == 403
    assert client.delete(f"/api/v1/tokens/{ann_id}", headers=bearer(write)).status_code == 403
    admin = service_token(desk, "root@example.com", "admin")
    listed = client.get("/api/v1/tokens?user=ANN@example.com", headers=bearer(admin))
    assert [(t["id"], t["user"]) for t in listed.json] == [(ann_id, "ann@example.com")]
    assert client.delete(f"/api/v1/tokens/{ann_id}", headers=bearer(admin)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(ann)).status_code == 401
    assert client.get("/api/v1/tokens?user=nobody@example.com", headers=bearer(admin)).status_code == 404
    assert client.delete(f"/api/v1/tokens/{2**31}", headers=bearer(admin)).status_code == 404
    assert client.get("/api/v1/tokens?user=%00", headers=bearer(admin)).status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": " "}, "name"),
        ({"scope": "root"}, "scope"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": "7"}, "expires_in_days"),
        ({"scope": "admin"}, "scope"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_invalid_tokens_are_refused_with_field_messages(
    client: Any, desk: Desk, people: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    csrf = sign_in(client, "ann@example.com")
    response = client.post("/api/v1/tokens", json=body, headers=csrf)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_anonymous_callers_get_401(client: Any) -> None:
    assert client.get("/api/v1/tokens").status_code == 401
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401
    assert client.delete("/api/v1/tokens/1").status_code == 401
