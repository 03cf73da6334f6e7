"""The minimal web layer: health, signing in and out, CSRF, security headers, plugin blueprints."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.errors import FrontdeskError
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk_webui.app import create_app


def csrf_token(client: Any, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def login(client: Any, email: str, password: str = "password123", next_path: str = "") -> Any:
    token = csrf_token(client)
    return client.post(f"/login{next_path}", data={"email": email, "password": password, "csrf_token": token})


def test_health_reports_version_database_and_plugins(client: Any, desk: Desk) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "version": "0.1.0",
        "database": "ok",
        "backend": desk.db.backend,
        "plugins": ["webui"],
    }


def test_sign_in_and_out(client: Any, make_user: Any) -> None:
    make_user(email="agent@example.com", name="Agnes", role="agent")
    assert client.get("/").headers["Location"] == "/login?next=%2F"

    page = client.get("/login")
    assert 'name="email"' in page.text
    assert 'name="password"' in page.text

    wrong = login(client, "agent@example.com", "not-the-password")
    assert wrong.status_code == 401
    assert "Wrong e-mail or password." in wrong.text

    right = login(client, "Agent@Example.com")
    assert (right.status_code, right.headers["Location"]) == (302, "/")
    assert client.get("/").headers["Location"] == "/agent/", "agents land in the agent workspace"
    account = client.get("/account")
    assert "Welcome, Agnes" in account.text
    assert 'aria-current="page" href="/account">Account</a>' in account.text
    assert 'href="/agent/">Tickets</a>' in account.text

    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert out.headers["Location"] == "/login"
    assert client.get("/account").headers["Location"].startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(client: Any, make_user: Any, target: str) -> None:
    make_user(email="ann@example.com")
    response = login(client, "ann@example.com", next_path=f"?next={target}")
    assert response.headers["Location"] == "/"


def test_sign_in_keeps_a_local_next_page(client: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    assert login(client, "ann@example.com", next_path="?next=/health").headers["Location"] == "/health"


def test_forms_without_a_csrf_token_are_refused(client: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    response = client.post("/login", data={"email": "ann@example.com", "password": "password123"})
    assert response.status_code == 400
    assert "CSRF" in response.text


def test_bumping_the_session_epoch_signs_out_everywhere(client: Any, desk: Desk, make_user: Any) -> None:
    user = make_user(email="ann@example.com")
    login(client, "ann@example.com")
    assert client.get("/account").status_code == 200
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(User, user.id).session_epoch += 1
    assert client.get("/account").status_code == 302


def test_html_responses_carry_security_headers(client: Any) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert "SameSite=Lax" in response.headers["Set-Cookie"]


def test_error_pages_keep_the_allow_header(client: Any) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert "<h1>405</h1>" in response.text
    assert "The method is not allowed for the requested URL." in response.text
    missing = client.get("/nowhere", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert missing.json["code"] == "not_found"


class Pages:
    NAME = "pages"

    @hookimpl
    def frontdesk_register_blueprints(self) -> list[Blueprint]:
        bp = Blueprint("pages", __name__, url_prefix="/pages")
        bp.add_url_rule("/", "index", lambda: "plugin page")
        return [bp]


class Misnamed:
    NAME = "misnamed"

    @hookimpl
    def frontdesk_register_blueprints(self) -> list[Blueprint]:
        return [Blueprint("other", __name__)]


@pytest.mark.frontdesk_plugins("webui", Pages())
def test_hook_frontdesk_register_blueprints_mounts_plugin_pages(client: Any) -> None:
    assert client.get("/pages/").text == "plugin page"


@pytest.mark.frontdesk_plugins("webui", Misnamed())
def test_a_blueprint_must_be_named_after_its_plugin(desk: Desk) -> None:
    with pytest.raises(FrontdeskError, match="plugin 'misnamed' returned blueprint 'other'; name it 'misnamed'"):
        create_app(desk)


def test_hook_frontdesk_make_wsgi_app_builds_the_app_without_importing_the_web_layer(desk: Desk) -> None:
    app = desk.plugins.calls.first("frontdesk_make_wsgi_app", desk=desk)
    assert app.extensions["frontdesk"] is desk


def test_the_app_refuses_to_start_without_a_secret_key(desk: Desk) -> None:
    from dataclasses import replace

    desk.config = replace(desk.config, secret_key=None)
    with pytest.raises(FrontdeskError, match="no secret key"):
        create_app(desk)


def test_sign_in_is_throttled_after_ten_failures(client: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    for _ in range(10):
        assert login(client, "ann@example.com", "wrong-password").status_code == 401
    refused = login(client, "ann@example.com")
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this account from your address; try again in 15 minutes." in refused.text
    assert int(refused.headers["Retry-After"]) > 800
    make_user(email="bob@example.com")
    assert login(client, "bob@example.com").status_code == 302, "other accounts are unaffected"


def test_a_successful_sign_in_clears_earlier_failures(client: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    for _ in range(9):
        login(client, "ann@example.com", "wrong-password")
    assert login(client, "ann@example.com").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    for _ in range(9):
        login(client, "ann@example.com", "wrong-password")
    assert login(client, "ann@example.com").status_code == 302


def test_sign_out_everywhere_ends_other_sessions(app: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "ann@example.com")
    login(phone, "ann@example.com")
    assert phone.get("/account").status_code == 200
    response = laptop.post("/logout/everywhere", data={"csrf_token": csrf_token(laptop, "/account")})
    assert response.headers["Location"] == "/login"
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert login(phone, "ann@example.com").status_code == 302, "signing in again works"


def test_api_docs_page_uses_vendored_assets_only(client: Any) -> None:
    import hashlib
    import json
    from pathlib import Path

    import frontdesk_webui

    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    static = Path(frontdesk_webui.__file__).parent / "static"
    for spec in json.loads((static / "vendor.json").read_text()).values():
        for name, digest in spec["files"].items():
            data = (static / "vendor" / spec["folder"] / Path(name).name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest
    served = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert served.status_code == 200
    served.close()
    templates = (static.parent / "templates").rglob("*.html")
    for template in templates:
        text = template.read_text()
        assert "://" not in text, f"{template.name} must not load anything from another site"


def test_requesters_land_in_the_portal(client: Any, make_user: Any) -> None:
    make_user(email="rita@example.com")
    login(client, "rita@example.com")
    assert client.get("/").headers["Location"] == "/portal/"
    assert client.get("/agent/").status_code == 403
    assert 'href="/portal/">My requests</a>' in client.get("/account").text


@pytest.mark.parametrize(
    ("path", "kwargs", "field"),
    [
        ("/api/v1/tickets?priority=%00", {}, "priority"),
        ("/api/v1/tickets", {"method": "POST", "json": {"subject": "a\x00b"}}, "subject"),
        ("/api/v1/tickets", {"method": "POST", "json": {"tags": ["ok", "b\x00d"]}}, "tags"),
        ("/login", {"method": "POST", "data": {"email": "a\x00@example.com"}}, "email"),
    ],
)
def test_nul_characters_are_refused_before_any_view(client: Any, path: str, kwargs: dict[str, Any], field: str) -> None:
    response = client.open(path, headers={"Accept": "application/json"}, **kwargs)
    assert response.status_code == 422
    assert response.json["errors"] == {field: ["Must not contain NUL characters."]}


def test_cookies_are_secure_over_https_and_behind_a_trusted_proxy(desk: Desk) -> None:
    from dataclasses import replace

    app = create_app(desk)
    assert "Secure" not in app.test_client().get("/login").headers["Set-Cookie"]
    assert "Secure" in app.test_client().get("/login", base_url="https://desk.example").headers["Set-Cookie"]
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Secure" not in app.test_client().get("/login", headers=forwarded).headers["Set-Cookie"], "untrusted"
    desk.config = replace(desk.config, trusted_proxies=1)
    proxied = create_app(desk)
    assert "Secure" in proxied.test_client().get("/login", headers=forwarded).headers["Set-Cookie"]
