"""Self sign-up and the desk settings that govern it (name, sign-up policy)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.errors import PermissionDenied, ValidationError
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk.services import plugins
from frontdesk.services.signup import SignupPolicy, sign_up


def csrf_token(client: Any, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"{path} has a form"
    return match.group(1)


def configure(desk: Desk, client: Any, **values: str) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        for key, value in values.items():
            plugins.set_setting(uow, "webui", key, value)
    client.application.extensions["frontdesk_settings"].forget()


def sign_up_form(client: Any, **data: str) -> Any:
    return client.post("/signup", data={"csrf_token": csrf_token(client, "/signup"), **data})


def test_sign_up_is_closed_on_a_new_desk(client: Any) -> None:
    assert client.get("/signup").status_code == 404
    assert "Create an account" not in client.get("/login").text


def test_anyone_signs_up_when_it_is_open(desk: Desk, client: Any) -> None:
    configure(desk, client, signup="open")
    assert "Create an account" in client.get("/login").text
    response = sign_up_form(client, name="Nina New", email="Nina@Example.com", password="long enough")
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/new"
    assert "Welcome! Your account is ready" in unescape(client.get("/portal/new").text)
    with desk.db.reading() as session:
        user = session.query(User).filter_by(email="nina@example.com").one()
        assert (user.role, user.name) == ("requester", "Nina New")


def test_sign_up_errors_name_the_field_and_keep_what_was_typed(desk: Desk, client: Any, make_user: Any) -> None:
    configure(desk, client, signup="open")
    make_user(email="taken@example.com")
    short = sign_up_form(client, name="Sam", email="sam@example.com", password="short")
    assert short.status_code == 422
    assert 'value="sam@example.com"' in short.text
    assert "Between 8 and 1024 characters." in short.text
    taken = sign_up_form(client, name="Tom", email="taken@example.com", password="long enough")
    assert taken.status_code == 422
    assert "already exists" in unescape(taken.text)


def test_sign_up_for_some_domains_only(desk: Desk, client: Any) -> None:
    configure(desk, client, signup="domains", signup_domains="acme.example, @beta.example")
    outsider = sign_up_form(client, name="Eve", email="eve@evil.example", password="long enough")
    assert outsider.status_code == 422
    assert "domains only" in outsider.text
    assert "acme.example, beta.example" in client.get("/signup").text
    assert sign_up_form(client, name="Bea", email="bea@beta.example", password="long enough").status_code == 302


def test_sign_ups_from_one_address_are_limited(desk: Desk) -> None:
    policy = SignupPolicy("open")
    for n in range(10):
        with desk.action(SYSTEM, source="test") as uow:
            sign_up(
                uow, {"name": f"Bot {n}", "email": f"bot{n}@example.com", "password": "long enough"}, policy, "9.9.9.9"
            )
    from frontdesk.errors import TooManyAttempts

    with pytest.raises(TooManyAttempts), desk.action(SYSTEM, source="test") as uow:
        sign_up(uow, {"name": "Bot", "email": "bot@example.com", "password": "long enough"}, policy, "9.9.9.9")
    with desk.action(SYSTEM, source="test") as uow:
        sign_up(uow, {"name": "Human", "email": "human@example.com", "password": "long enough"}, policy, "1.2.3.4")


def test_the_service_refuses_when_closed_and_never_creates_staff(desk: Desk) -> None:
    with pytest.raises(PermissionDenied), desk.action(SYSTEM, source="test") as uow:
        sign_up(uow, {"name": "X", "email": "x@example.com", "password": "long enough"}, SignupPolicy(), None)
    with desk.action(SYSTEM, source="test") as uow:
        user = sign_up(
            uow,
            {"name": "X", "email": "x@example.com", "password": "long enough", "role": "admin"},
            SignupPolicy("open"),
            None,
        )
        assert user.role == "requester"
    with pytest.raises(ValidationError), desk.action(SYSTEM, source="test") as uow:
        sign_up(uow, {"name": "Y", "email": "y@example.com"}, SignupPolicy("open"), None)


def test_admins_name_the_desk_and_choose_the_policy(desk: Desk, client: Any, make_user: Any) -> None:
    make_user(email="root@example.com", role="admin")
    client.post(
        "/login",
        data={"email": "root@example.com", "password": "password123", "csrf_token": csrf_token(client, "/login")},
    )
    page = client.get("/admin/settings").text
    assert '<select class="form-select" id="setting-signup" name="signup"' in page
    bad = client.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_token(client, "/admin/settings"),
            "desk_name": "ACME Help",
            "signup": "domains",
            "signup_domains": "not a domain",
        },
    )
    assert bad.status_code == 422
    assert "not a domain: not a domain" in bad.text
    saved = client.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_token(client, "/admin/settings"),
            "desk_name": "ACME Help",
            "signup": "open",
            "signup_domains": "",
        },
    )
    assert saved.headers["Location"] == "/admin/settings"
    assert "<title>Admin · ACME Help</title>" in client.get("/admin/").text or "ACME Help" in client.get("/admin/").text
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert "Create an account" in client.get("/login").text
