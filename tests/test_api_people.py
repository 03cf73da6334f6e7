"""``/api/v1/users``, ``/organizations`` and ``/groups``: staff read, admins write, requesters see themselves."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import Event, GroupMembership, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tokens
from frontdesk.services.passwords import check_credentials
from frontdesk_webui.api import people as people_api
from frontdesk_webui.api import register


@pytest.fixture
def app(app: Flask) -> Flask:
    """The web application with the people API mounted (if the API does not mount it yet)."""
    if people_api.blp.name not in app.blueprints:
        register(app.extensions["flask-smorest"]["apis"][""]["ext_obj"], people_api.blp)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def org(desk: Desk) -> dict[str, int]:
    """Two organizations and two groups, by name -> id."""
    with desk.action(SYSTEM, source="test") as uow:
        return {
            "ACME": people.create_organization(uow, {"name": "ACME"}).id,
            "Globex": people.create_organization(uow, {"name": "Globex", "shared": True}).id,
            "Support": people.create_group(uow, {"name": "Support", "description": "First line"}).id,
            "Network": people.create_group(uow, {"name": "Network"}).id,
        }


@pytest.fixture
def cast(make_user: Any, org: dict[str, int]) -> dict[str, User]:
    """An admin, two agents and two requesters of different organizations."""
    return {
        "admin": make_user(email="ada@example.com", name="Ada Admin", role="admin"),
        "agent": make_user(email="agnes@example.com", name="Agnes", role="agent", groups=["Support"]),
        "net": make_user(email="ned@example.com", name="Ned", role="agent", groups=["Network", "Support"]),
        "rita": make_user(email="rita@example.com", name="Rita", organization="ACME"),
        "gus": make_user(email="gus@example.com", name="Gus", organization="Globex"),
    }


def sign_in(client: Any, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": "password123"})
    assert response.status_code == 302


def emails(response: Any) -> list[str]:
    return [user["email"] for user in response.json["items"]]


# Anonymous and requesters


def test_anonymous_callers_get_401(client: Any, cast: dict[str, User], org: dict[str, int]) -> None:
    for method, path in [
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("get", f"/api/v1/users/{cast['rita'].id}"),
        ("patch", f"/api/v1/users/{cast['rita'].id}"),
        ("get", "/api/v1/organizations"),
        ("patch", f"/api/v1/organizations/{org['ACME']}"),
        ("get", "/api/v1/groups"),
        ("post", f"/api/v1/groups/{org['Support']}/members"),
        ("delete", f"/api/v1/groups/{org['Support']}/members/{cast['agent'].id}"),
    ]:
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, (method, path)
        assert response.json["code"] == "unauthorized"


def test_requesters_see_themselves_and_their_organization_only(
    client: Any, cast: dict[str, User], org: dict[str, int]
) -> None:
    sign_in(client, cast["rita"])
    listing = client.get("/api/v1/users")
    assert listing.status_code == 403
    assert listing.json["code"] == "forbidden"
    me = client.get(f"/api/v1/users/{cast['rita'].id}")
    assert me.status_code == 200
    assert me.json == {
        "id": cast["rita"].id,
        "email": "rita@example.com",
        "name": "Rita",
        "role": "requester",
        "active": True,
        "all_groups": False,
        "organization": "ACME",
        "groups": [],
    }
    for other in ("gus", "agent", "admin"):
        assert client.get(f"/api/v1/users/{cast[other].id}").status_code == 404
    assert client.get("/api/v1/users/9999").status_code == 404

    own = client.get(f"/api/v1/organizations/{org['ACME']}").json
    assert (own["id"], own["name"], own["shared"]) == (org["ACME"], "ACME", False)
    assert client.get("/api/v1/organizations").json == [own]
    assert client.get(f"/api/v1/organizations/{org['Globex']}").status_code == 404
    assert client.get("/api/v1/groups").status_code == 403
    assert client.get(f"/api/v1/groups/{org['Support']}").status_code == 403


def test_a_requester_without_organization_lists_none(client: Any, make_user: Any, org: dict[str, int]) -> None:
    sign_in(client, make_user(email="solo@example.com"))
    assert client.get("/api/v1/organizations").json == []


# Staff reads


def test_staff_list_users_a_page_at_a_time(client: Any, cast: dict[str, User]) -> None:
    sign_in(client, cast["agent"])
    everyone = client.get("/api/v1/users")
    assert everyone.status_code == 200
    assert emails(everyone) == [
        "ada@example.com",
        "agnes@example.com",
        "gus@example.com",
        "ned@example.com",
        "rita@example.com",
    ]
    assert everyone.json["next_cursor"] is None
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/v1/users", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += emails(page)
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
        assert len(page.json["items"]) == 2
    assert seen == emails(everyone)
    bad = client.get("/api/v1/users?cursor=nonsense")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"cursor"}


def test_staff_filter_users(client: Any, cast: dict[str, User]) -> None:
    sign_in(client, cast["net"])
    assert emails(client.get("/api/v1/users?role=agent")) == ["agnes@example.com", "ned@example.com"]
    assert emails(client.get("/api/v1/users?group=NETWORK")) == ["ned@example.com"]
    assert emails(client.get("/api/v1/users?organization=globex")) == ["gus@example.com"]
    assert emails(client.get("/api/v1/users?q=AG")) == ["agnes@example.com"]
    assert emails(client.get("/api/v1/users?q=admin")) == ["ada@example.com"], "names match too"
    assert emails(client.get("/api/v1/users?q=%25")) == [], "% is not a wildcard"
    assert emails(client.get("/api/v1/users?group=Nowhere")) == []
    bad = client.get("/api/v1/users?role=wizard&limit=500")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"role", "limit"}


def test_staff_read_anyone_organizations_and_groups(client: Any, cast: dict[str, User], org: dict[str, int]) -> None:
    sign_in(client, cast["agent"])
    ned = client.get(f"/api/v1/users/{cast['net'].id}").json
    assert (ned["role"], ned["groups"]) == ("agent", ["Network", "Support"])
    assert [o["name"] for o in client.get("/api/v1/organizations").json] == ["ACME", "Globex"]
    assert client.get(f"/api/v1/organizations/{org['Globex']}").json["shared"] is True
    assert client.get("/api/v1/organizations/9999").status_code == 404
    groups = client.get("/api/v1/groups").json
    assert groups == [
        {
            "id": org["Network"],
            "name": "Network",
            "description": "",
            "members": ["ned@example.com"],
            "escalates_to": None,
        },
        {
            "id": org["Support"],
            "name": "Support",
            "description": "First line",
            "members": ["agnes@example.com", "ned@example.com"],
            "escalates_to": None,
        },
    ]
    assert client.get(f"/api/v1/groups/{org['Support']}").json == groups[1]
    assert client.get("/api/v1/groups/9999").status_code == 404


# Admin writes


def test_agents_cannot_change_people(client: Any, cast: dict[str, User], org: dict[str, int]) -> None:
    sign_in(client, cast["agent"])
    for method, path, body in [
        ("post", "/api/v1/users", {"email": "new@example.com", "name": "New"}),
        ("patch", f"/api/v1/users/{cast['rita'].id}", {"name": "R"}),
        ("patch", f"/api/v1/users/{cast['agent'].id}", {"role": "admin"}),
        ("post", "/api/v1/organizations", {"name": "Initech"}),
        ("patch", f"/api/v1/organizations/{org['ACME']}", {"shared": True}),
        ("post", "/api/v1/groups", {"name": "Billing"}),
        ("patch", f"/api/v1/groups/{org['Support']}", {"name": "Help"}),
        ("post", f"/api/v1/groups/{org['Network']}/members", {"email": "agnes@example.com"}),
        ("delete", f"/api/v1/groups/{org['Support']}/members/{cast['net'].id}", None),
    ]:
        response = getattr(client, method)(path, json=body)
        assert response.status_code == 403, (method, path)
        assert "people.manage" in response.json["message"]


def test_refusals_come_before_validation(client: Any, cast: dict[str, User], org: dict[str, int]) -> None:
    sign_in(client, cast["agent"])
    for method, path in [
        ("post", "/api/v1/users"),
        ("patch", f"/api/v1/users/{cast['rita'].id}"),
        ("post", "/api/v1/groups"),
        ("post", f"/api/v1/groups/{org['Support']}/members"),
        ("post", "/api/v1/organizations"),
    ]:
        response = getattr(client, method)(path, json={"name": "", "bogus": 1})
        assert response.status_code == 403, (method, path)
    client.post("/logout")
    sign_in(client, cast["rita"])
    assert client.get("/api/v1/users?role=wizard&limit=0").status_code == 403


def test_admins_create_and_change_users(client: Any, desk: Desk, cast: dict[str, User]) -> None:
    sign_in(client, cast["admin"])
    created = client.post(
        "/api/v1/users",
        json={
            "email": "Bob@Example.com",
            "name": "Bob",
            "role": "agent",
            "groups": ["Support"],
            "password": "s3cret-pw",
        },
    )
    assert created.status_code == 201
    bob = created.json
    assert created.headers["Location"] == f"/api/v1/users/{bob['id']}"
    assert (bob["email"], bob["groups"]) == ("bob@example.com", ["Support"])

    changed = client.patch(
        f"/api/v1/users/{bob['id']}",
        json={"name": " Robert ", "all_groups": True, "organization": "acme", "password": "new-password"},
    )
    assert changed.status_code == 200
    assert (changed.json["name"], changed.json["all_groups"], changed.json["organization"]) == (
        "Robert",
        True,
        "ACME",
    )
    with desk.db.reading() as session:
        assert check_credentials(session, "bob@example.com", "new-password") is not None
        event = session.scalars(select(Event).where(Event.name == "user.updated")).one()
    assert event.payload["changes"]["password"] == [True, True]
    assert "new-password" not in str(event.payload)

    demoted = client.patch(f"/api/v1/users/{bob['id']}", json={"role": "requester"})
    assert (demoted.json["role"], demoted.json["groups"], demoted.json["all_groups"]) == ("requester", [], False)
    cleared = client.patch(f"/api/v1/users/{bob['id']}", json={"organization": None})
    assert cleared.json["organization"] is None
    assert client.patch("/api/v1/users/9999", json={"name": "Nobody"}).status_code == 404


def test_user_validation_and_conflicts(client: Any, cast: dict[str, User]) -> None:
    sign_in(client, cast["admin"])
    bad = client.post("/api/v1/users", json={"email": "not-an-address", "name": " ", "role": "wizard"})
    assert bad.status_code == 422
    assert bad.json["code"] == "unprocessable_entity"
    assert set(bad.json["errors"]) == {"email", "name", "role"}
    duplicate = client.post("/api/v1/users", json={"email": "RITA@example.com", "name": "Rita again"})
    assert duplicate.status_code == 409
    bad = client.patch(
        f"/api/v1/users/{cast['rita'].id}", json={"role": "boss", "password": "short", "active": "maybe"}
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"role", "password", "active"}
    unknown = client.patch(f"/api/v1/users/{cast['rita'].id}", json={"organization": "Nowhere"})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"organization": ["no organization named 'Nowhere'"]}
    refused = client.patch(f"/api/v1/users/{cast['rita'].id}", json={"all_groups": True})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"all_groups"}


def test_the_last_active_admin_stays_one(client: Any, desk: Desk, cast: dict[str, User], make_user: Any) -> None:
    sign_in(client, cast["admin"])
    me = f"/api/v1/users/{cast['admin'].id}"
    for change in ({"role": "agent"}, {"active": False}):
        response = client.patch(me, json=change)
        assert response.status_code == 409, change
        assert "last active admin" in response.json["message"]
    assert client.get(me).json["role"] == "admin"

    other = make_user(email="otto@example.com", role="admin")
    assert client.patch(f"/api/v1/users/{other.id}", json={"active": False}).status_code == 200
    assert client.patch(me, json={"role": "agent"}).status_code == 409, "a deactivated admin does not count"
    assert client.patch(f"/api/v1/users/{other.id}", json={"active": True}).status_code == 200
    assert client.patch(me, json={"role": "agent"}).json["role"] == "agent"
    assert client.get("/api/v1/users?role=admin").status_code == 200, "an agent still lists people"
    assert client.patch(me, json={"role": "admin"}).status_code == 403


def test_deactivating_a_user_ends_their_sessions(app: Flask, desk: Desk, cast: dict[str, User]) -> None:
    rita, admin = app.test_client(), app.test_client()
    sign_in(rita, cast["rita"])
    sign_in(admin, cast["admin"])
    assert rita.get(f"/api/v1/users/{cast['rita'].id}").status_code == 200
    assert admin.patch(f"/api/v1/users/{cast['rita'].id}", json={"active": False}).json["active"] is False
    assert rita.get(f"/api/v1/users/{cast['rita'].id}").status_code == 401
    assert admin.patch(f"/api/v1/users/{cast['rita'].id}", json={"active": True}).status_code == 200
    assert rita.get(f"/api/v1/users/{cast['rita'].id}").status_code == 401, "the old session stays ended"
    with desk.db.reading() as session:
        assert session.get(User, cast["rita"].id).session_epoch == 1


def test_admins_create_and_change_organizations(client: Any, cast: dict[str, User], org: dict[str, int]) -> None:
    sign_in(client, cast["admin"])
    created = client.post("/api/v1/organizations", json={"name": " Initech ", "shared": True})
    assert created.status_code == 201
    assert (created.json["name"], created.json["shared"]) == ("Initech", True)
    assert created.headers["Location"] == f"/api/v1/organizations/{created.json['id']}"
    changed = client.patch(f"/api/v1/organizations/{org['ACME']}", json={"name": "Acme Corp", "shared": True})
    assert (changed.json["name"], changed.json["shared"]) == ("Acme Corp", True)
    assert client.patch(f"/api/v1/organizations/{org['ACME']}", json={"name": "acme corp"}).status_code == 200
    assert client.post("/api/v1/organizations", json={"name": "GLOBEX"}).status_code == 409
    clash = client.patch(f"/api/v1/organizations/{org['ACME']}", json={"name": "globex"})
    assert clash.status_code == 409
    bad = client.patch(f"/api/v1/organizations/{org['ACME']}", json={"name": "", "shared": "often"})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"name", "shared"}
    assert client.patch("/api/v1/organizations/9999", json={"shared": True}).status_code == 404


def test_admins_create_and_change_groups_and_members(
    client: Any, desk: Desk, cast: dict[str, User], org: dict[str, int]
) -> None:
    sign_in(client, cast["admin"])
    created = client.post("/api/v1/groups", json={"name": "Billing", "description": "Invoices"})
    assert created.status_code == 201
    billing = created.json["id"]
    assert created.json == {
        "id": billing,
        "name": "Billing",
        "description": "Invoices",
        "members": [],
        "escalates_to": None,
    }
    assert client.post("/api/v1/groups", json={"name": "support"}).status_code == 409
    renamed = client.patch(f"/api/v1/groups/{billing}", json={"name": "Accounts", "description": ""})
    assert (renamed.json["name"], renamed.json["description"]) == ("Accounts", "")
    assert client.patch(f"/api/v1/groups/{billing}", json={"name": "NETWORK"}).status_code == 409
    assert client.patch(f"/api/v1/groups/{billing}", json={"name": " "}).status_code == 422

    added = client.post(f"/api/v1/groups/{billing}/members", json={"email": "Agnes@example.com"})
    assert added.status_code == 201
    assert added.json["members"] == ["agnes@example.com"]
    again = client.post(f"/api/v1/groups/{billing}/members", json={"email": "agnes@example.com"})
    assert again.status_code == 409
    requester = client.post(f"/api/v1/groups/{billing}/members", json={"email": "rita@example.com"})
    assert requester.status_code == 422
    assert set(requester.json["errors"]) == {"email"}
    malformed = client.post(f"/api/v1/groups/{billing}/members", json={})
    assert malformed.status_code == 422
    assert set(malformed.json["errors"]) == {"email"}
    assert client.post("/api/v1/groups/9999/members", json={"email": "agnes@example.com"}).status_code == 404

    removed = client.delete(f"/api/v1/groups/{billing}/members/{cast['agent'].id}")
    assert (removed.status_code, removed.data) == (204, b"")
    assert client.get(f"/api/v1/groups/{billing}").json["members"] == []
    assert client.delete(f"/api/v1/groups/{billing}/members/{cast['agent'].id}").status_code == 404
    assert client.delete(f"/api/v1/groups/{billing}/members/9999").status_code == 404
    with desk.db.reading() as session:
        assert session.get(GroupMembership, (org["Support"], cast["agent"].id)) is not None
        names = list(session.scalars(select(Event.name).where(Event.name.like("group.%")).order_by(Event.id)))
    assert names == ["group.updated", "group.member_removed"]


def test_people_writes_need_an_admin_scoped_token(client: Any, desk: Desk, cast: dict[str, User]) -> None:
    with desk.action(cast["admin"], source="test") as uow:
        _, write = tokens.create_token(uow, {"scope": "write"})
        _, full = tokens.create_token(uow, {"scope": "admin"})
    body = {"name": "Initech"}
    refused = client.post("/api/v1/organizations", json=body, headers={"Authorization": f"Bearer {write}"})
    assert refused.status_code == 403
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {write}"}).status_code == 200
    created = client.post("/api/v1/organizations", json=body, headers={"Authorization": f"Bearer {full}"})
    assert created.status_code == 201


def test_the_endpoints_are_documented(client: Any) -> None:
    spec = client.get("/api/openapi.json").json
    for path in (
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/organizations",
        "/api/v1/organizations/{org_id}",
        "/api/v1/groups",
        "/api/v1/groups/{group_id}",
        "/api/v1/groups/{group_id}/members",
        "/api/v1/groups/{group_id}/members/{user_id}",
    ):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/users"]["get"]["summary"].startswith("List people")
    assert {"User", "UserUpdate", "Organization", "Group"} <= set(spec["components"]["schemas"])


# The services directly


def test_update_user_needs_people_manage(desk: Desk, cast: dict[str, User]) -> None:
    with pytest.raises(PermissionDenied), desk.action(cast["agent"], source="test") as uow:
        people.update_user(uow, cast["rita"].id, {"name": "R"})
    with pytest.raises(NotFound), desk.action(SYSTEM, source="test") as uow:
        people.update_user(uow, 9999, {"name": "R"})


def test_the_system_cannot_remove_the_last_admin_either(desk: Desk, cast: dict[str, User]) -> None:
    with pytest.raises(Conflict), desk.action(SYSTEM, source="test") as uow:
        people.update_user(uow, cast["admin"].id, {"active": False})


def test_an_unchanged_user_records_no_event(desk: Desk, cast: dict[str, User]) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.update_user(uow, cast["rita"].id, {"name": "Rita", "organization": "acme"})
    with desk.db.reading() as session:
        assert session.scalars(select(Event).where(Event.name == "user.updated")).all() == []


def test_remove_member_needs_a_member(desk: Desk, cast: dict[str, User]) -> None:
    with pytest.raises(NotFound, match="not a member"), desk.action(SYSTEM, source="test") as uow:
        people.remove_member(uow, "Network", "agnes@example.com")
    with pytest.raises(PermissionDenied), desk.action(cast["net"], source="test") as uow:
        people.remove_member(uow, "Network", "ned@example.com")
    with desk.action(SYSTEM, source="test") as uow:
        people.remove_member(uow, "network", "NED@example.com")


def test_reads_enforce_the_rules_without_the_web(desk: Desk, cast: dict[str, User]) -> None:
    with pytest.raises(PermissionDenied), desk.reading(cast["rita"]) as uow:
        people.list_users(uow, {})
    with pytest.raises(ValidationError), desk.reading(cast["agent"]) as uow:
        people.list_users(uow, {"limit": 0})
    with pytest.raises(NotFound), desk.reading(None) as uow:
        people.read_user(uow, cast["rita"].id)
    with pytest.raises(PermissionDenied), desk.reading(None) as uow:
        people.list_organizations(uow)


def test_two_admins_demoting_themselves_at_once_leave_one(desk: Desk, make_user: Any) -> None:
    """The second demotion waits for the first (row locks) and then sees it: one admin is left."""
    if desk.db.backend == "sqlite":
        pytest.skip("SQLite writers take the lock at BEGIN, so they never interleave")
    first, second = make_user(role="admin"), make_user(role="admin")
    updated, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def demote_first() -> None:
        with desk.action(first, source="test") as uow:
            people.update_user(uow, first.id, {"role": "agent"})
            updated.set()
            release.wait(10)
        outcome["first"] = "ok"

    def demote_second() -> None:
        try:
            with desk.action(second, source="test") as uow:
                people.update_user(uow, second.id, {"role": "agent"})
            outcome["second"] = "ok"
        except Conflict:
            outcome["second"] = "conflict"

    one = threading.Thread(target=demote_first)
    one.start()
    assert updated.wait(10)
    two = threading.Thread(target=demote_second)
    two.start()
    two.join(0.5)
    assert two.is_alive(), "the second demotion waits for the first transaction"
    release.set()
    one.join(10)
    two.join(10)
    assert outcome == {"first": "ok", "second": "conflict"}
    with desk.db.reading() as session:
        assert session.scalars(select(User.email).where(User.role == "admin")).all() == [second.email]
