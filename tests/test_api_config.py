"""``/api/v1/statuses``, ``/priorities``, ``/types`` and ``/tags``: reads for everyone, changes for admins."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.models import Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tickets, tokens
from frontdesk_webui.api import config as config_api
from frontdesk_webui.api import register


@pytest.fixture
def app(app: Flask) -> Flask:
    """The web application with the configuration API mounted (if the API does not mount it yet)."""
    if config_api.blp.name not in app.blueprints:
        register(app.extensions["flask-smorest"]["apis"][""]["ext_obj"], config_api.blp)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def sign_in(client: Any, make_user: Any) -> Any:
    """``sign_in("admin")`` makes a user with that role and signs the client in as them."""

    def sign(role: str, **values: Any) -> Any:
        user = make_user(role=role, **values)
        response = client.post("/login", data={"email": user.email, "password": "password123"})
        assert response.status_code == 302
        return user

    return sign


def named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


def test_anonymous_callers_get_401(client: Any) -> None:
    for method, path in [
        ("get", "/api/v1/statuses"),
        ("post", "/api/v1/statuses"),
        ("get", "/api/v1/priorities/1"),
        ("patch", "/api/v1/types/1"),
        ("delete", "/api/v1/types/1"),
        ("get", "/api/v1/tags"),
    ]:
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, (method, path)
        assert response.json["code"] == "unauthorized"


@pytest.mark.parametrize("role", ["requester", "agent", "admin"])
def test_everyone_signed_in_reads_statuses_priorities_and_types(client: Any, sign_in: Any, role: str) -> None:
    sign_in(role)
    statuses = client.get("/api/v1/statuses").json
    assert [(s["name"], s["category"], s["is_default"]) for s in statuses] == [
        ("new", "new", True),
        ("open", "open", True),
        ("pending", "pending", True),
        ("on-hold", "pending", False),
        ("solved", "solved", True),
        ("closed", "closed", True),
    ]
    assert set(statuses[0]) == {"id", "name", "category", "position", "is_default"}
    priorities = client.get("/api/v1/priorities").json
    assert [(p["name"], p["rank"], p["is_default"]) for p in priorities] == [
        ("low", 10, False),
        ("normal", 20, True),
        ("high", 30, False),
        ("urgent", 40, False),
    ]
    types = client.get("/api/v1/types").json
    assert [t["name"] for t in types] == ["question", "incident", "problem", "task"]
    one = client.get(f"/api/v1/types/{types[1]['id']}")
    assert one.json == types[1]
    assert client.get(f"/api/v1/statuses/{statuses[2]['id']}").json == statuses[2]
    assert client.get(f"/api/v1/priorities/{priorities[0]['id']}").json == priorities[0]
    missing = client.get("/api/v1/statuses/9999")
    assert (missing.status_code, missing.json["code"]) == (404, "not_found")


@pytest.mark.parametrize("role", ["requester", "agent"])
def test_only_admins_change_the_catalog(client: Any, sign_in: Any, role: str) -> None:
    sign_in(role)
    status = client.get("/api/v1/statuses").json[0]
    for method, path, body in [
        ("post", "/api/v1/statuses", {"name": "waiting", "category": "pending"}),
        ("patch", f"/api/v1/statuses/{status['id']}", {"name": "fresh"}),
        ("delete", f"/api/v1/statuses/{status['id']}", None),
        ("post", "/api/v1/priorities", {"name": "meh", "rank": 1}),
        ("patch", "/api/v1/priorities/1", {"rank": 1}),
        ("delete", "/api/v1/priorities/1", None),
        ("post", "/api/v1/types", {"name": "chore"}),
        ("patch", "/api/v1/types/1", {"name": "chore"}),
        ("delete", "/api/v1/types/1", None),
    ]:
        response = getattr(client, method)(path, json=body)
        assert response.status_code == 403, (method, path)
        assert response.json["code"] == "forbidden"
        assert "desk.configure" in response.json["message"]
    assert client.get("/api/v1/statuses").json[0] == status
    invalid = client.post("/api/v1/statuses", json={"name": "", "category": "limbo"})
    assert invalid.status_code == 403, "refused before the body is validated"


def test_admins_create_change_and_delete_statuses(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    created = client.post("/api/v1/statuses", json={"name": " Waiting ", "category": "pending", "is_default": True})
    assert created.status_code == 201
    body = created.json
    assert created.headers["Location"] == f"/api/v1/statuses/{body['id']}"
    assert (body["name"], body["category"], body["position"], body["is_default"]) == ("Waiting", "pending", 70, True)
    statuses = client.get("/api/v1/statuses").json
    assert [s["name"] for s in statuses if s["category"] == "pending" and s["is_default"]] == ["Waiting"]

    changed = client.patch(f"/api/v1/statuses/{body['id']}", json={"name": "waiting on customer", "position": 35})
    assert changed.status_code == 200
    assert (changed.json["name"], changed.json["position"]) == ("waiting on customer", 35)

    pending = named(statuses, "pending")
    assert client.patch(f"/api/v1/statuses/{pending['id']}", json={"is_default": True}).json["is_default"] is True
    assert client.get(f"/api/v1/statuses/{body['id']}").json["is_default"] is False

    deleted = client.delete(f"/api/v1/statuses/{body['id']}")
    assert (deleted.status_code, deleted.data) == (204, b"")
    assert client.get(f"/api/v1/statuses/{body['id']}").status_code == 404
    assert client.delete(f"/api/v1/statuses/{body['id']}").status_code == 404


def test_admins_create_change_and_delete_priorities_and_types(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    critical = client.post("/api/v1/priorities", json={"name": "critical", "rank": 50})
    assert critical.status_code == 201
    assert (critical.json["rank"], critical.json["is_default"]) == (50, False)
    made_default = client.patch(f"/api/v1/priorities/{critical.json['id']}", json={"is_default": True})
    assert made_default.json["is_default"] is True
    assert [p["name"] for p in client.get("/api/v1/priorities").json if p["is_default"]] == ["critical"]
    normal = named(client.get("/api/v1/priorities").json, "normal")
    assert client.delete(f"/api/v1/priorities/{normal['id']}").status_code == 204

    chore = client.post("/api/v1/types", json={"name": "chore", "position": 5})
    assert chore.status_code == 201
    assert client.get("/api/v1/types").json[0]["name"] == "chore"
    renamed = client.patch(f"/api/v1/types/{chore.json['id']}", json={"name": "Chore"})
    assert renamed.json == {"id": chore.json["id"], "name": "Chore", "position": 5}
    assert client.delete(f"/api/v1/types/{chore.json['id']}").status_code == 204
    assert "Chore" not in [t["name"] for t in client.get("/api/v1/types").json]


def test_validation_errors_name_each_field(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    response = client.post("/api/v1/statuses", json={"name": "", "category": "limbo", "position": "x"})
    assert response.status_code == 422
    assert response.json["code"] == "unprocessable_entity"
    assert set(response.json["errors"]) == {"name", "category", "position"}
    assert response.json["errors"]["category"] == ["Must be one of: new, open, pending, solved, closed."]
    response = client.post("/api/v1/priorities", json={"name": "x" * 51})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"name", "rank"}
    response = client.patch("/api/v1/types/1", json={"position": 10**9, "colour": "red"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"position", "colour"}
    nul = client.post("/api/v1/types", json={"name": "bad\x00name"})
    assert nul.status_code == 422
    assert nul.json["errors"] == {"name": ["Must not contain NUL characters."]}


def test_duplicate_names_conflict(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    for path, body in [
        ("/api/v1/statuses", {"name": "OPEN", "category": "open"}),
        ("/api/v1/priorities", {"name": "High", "rank": 1}),
        ("/api/v1/types", {"name": " task "}),
    ]:
        response = client.post(path, json=body)
        assert response.status_code == 409, path
        assert response.json["code"] == "conflict"
        assert "already exists" in response.json["message"]
    on_hold = named(client.get("/api/v1/statuses").json, "on-hold")
    clash = client.patch(f"/api/v1/statuses/{on_hold['id']}", json={"name": "Pending"})
    assert clash.status_code == 409


def test_what_tickets_use_cannot_be_deleted(client: Any, desk: Desk, sign_in: Any, make_user: Any) -> None:
    make_user(email="rita@example.com")
    with desk.action(SYSTEM, source="test") as uow:
        tickets.create_ticket(uow, {"subject": "Printer", "requester": "rita@example.com", "type": "incident"})
    sign_in("admin")
    new = named(client.get("/api/v1/statuses").json, "new")
    refused = client.delete(f"/api/v1/statuses/{new['id']}")
    assert refused.status_code == 409
    assert refused.json["message"].startswith("1 ticket uses the status 'new'")
    incident = named(client.get("/api/v1/types").json, "incident")
    assert client.delete(f"/api/v1/types/{incident['id']}").status_code == 409
    normal = named(client.get("/api/v1/priorities").json, "normal")
    assert "1 ticket uses" in client.delete(f"/api/v1/priorities/{normal['id']}").json["message"]


def test_every_category_keeps_a_status_and_defaults_are_replaced_not_removed(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    statuses = client.get("/api/v1/statuses").json
    solved = named(statuses, "solved")
    refused = client.delete(f"/api/v1/statuses/{solved['id']}")
    assert refused.status_code == 409
    assert "only solved status" in refused.json["message"]
    assert client.patch(f"/api/v1/statuses/{solved['id']}", json={"category": "open"}).status_code == 409
    off = client.patch(f"/api/v1/statuses/{solved['id']}", json={"is_default": False})
    assert off.status_code == 409
    assert "default" in off.json["message"]


def test_changing_a_category_moves_the_tickets(client: Any, desk: Desk, sign_in: Any, make_user: Any) -> None:
    make_user(email="rita@example.com")
    with desk.action(SYSTEM, source="test") as uow:
        ticket = tickets.create_ticket(uow, {"subject": "Printer", "requester": "rita@example.com"})
        tickets.update_ticket(uow, ticket.number, {"status": "on-hold"})
    sign_in("admin")
    on_hold = named(client.get("/api/v1/statuses").json, "on-hold")
    moved = client.patch(f"/api/v1/statuses/{on_hold['id']}", json={"category": "open"})
    assert moved.status_code == 200
    assert (moved.json["category"], moved.json["is_default"]) == ("open", False)
    with desk.db.reading() as session:
        assert session.scalar(select(Ticket.status_category).where(Ticket.id == ticket.id)) == "open"


def test_write_tokens_cannot_configure_admin_tokens_can(client: Any, desk: Desk, make_user: Any) -> None:
    admin = make_user(role="admin")
    with desk.action(admin, source="test") as uow:
        _, write = tokens.create_token(uow, {"scope": "write"})
        _, full = tokens.create_token(uow, {"scope": "admin"})
    body = {"name": "chore"}
    refused = client.post("/api/v1/types", json=body, headers={"Authorization": f"Bearer {write}"})
    assert refused.status_code == 403
    assert "'admin'" in refused.json["message"]
    assert client.get("/api/v1/types", headers={"Authorization": f"Bearer {write}"}).status_code == 200
    created = client.post("/api/v1/types", json=body, headers={"Authorization": f"Bearer {full}"})
    assert created.status_code == 201


# Tags


@pytest.fixture
def tagged(desk: Desk, make_user: Any) -> None:
    """Support sees two printer tickets; Network one printer and one vpn ticket."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Network"})
    make_user(email="rita@example.com")
    with desk.action(SYSTEM, source="test") as uow:
        for group, tags in [
            ("Support", ["printer", "floor-3"]),
            ("Support", ["printer"]),
            ("Network", ["printer", "vpn"]),
        ]:
            tickets.create_ticket(
                uow, {"subject": "Help", "requester": "rita@example.com", "group": group, "tags": tags}
            )


def test_tag_counts_respect_what_the_caller_sees(client: Any, sign_in: Any, tagged: None) -> None:
    sign_in("agent", groups=["Support"])
    assert client.get("/api/v1/tags").json == [{"name": "printer", "count": 2}, {"name": "floor-3", "count": 1}]
    client.post("/logout")
    sign_in("admin")
    assert client.get("/api/v1/tags").json == [
        {"name": "printer", "count": 3},
        {"name": "floor-3", "count": 1},
        {"name": "vpn", "count": 1},
    ]
    assert client.get("/api/v1/tags?prefix=V").json == [{"name": "vpn", "count": 1}]
    assert client.get("/api/v1/tags?limit=1").json == [{"name": "printer", "count": 3}]
    bad = client.get("/api/v1/tags?limit=0")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"limit"}


def test_tag_counts_are_for_staff(client: Any, sign_in: Any, tagged: None) -> None:
    sign_in("requester", email="rita2@example.com")
    response = client.get("/api/v1/tags")
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert client.get("/api/v1/tags?limit=0").status_code == 403, "refused before the query is validated"


def test_the_endpoints_are_documented(client: Any, sign_in: Any) -> None:
    spec = client.get("/api/openapi.json").json
    for path in (
        "/api/v1/statuses",
        "/api/v1/statuses/{status_id}",
        "/api/v1/priorities",
        "/api/v1/types",
        "/api/v1/tags",
    ):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/tags"]["get"]["summary"].startswith("Tags on the tickets the caller can see")
    assert {"Status", "Priority", "TicketType", "TagCount"} <= set(spec["components"]["schemas"])
