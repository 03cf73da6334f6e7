"""Every route of the plugin (pages and API) for anonymous visitors, requesters, agents and admins.

The table names each route's policy; a route without one fails the first test, so a new route
cannot ship unreviewed. Writes are sent with empty bodies: an allowed caller gets past the
permission check (and is refused for the input at most), a refused one gets 401/403.
"""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_assets import cmdb, inventory, licences

from frontdesk.permissions import SYSTEM
from frontdesk.services import tickets
from frontdesk.testing.routes import ROLES, plugin_routes, sign_in

# read: assets.view; own: any signed-in user (services show their own); manage: assets.manage;
# work: assets.view + tickets.work (linking tickets).
POLICY: dict[tuple[str, str], str] = {
    ("assets.index", "GET"): "read",
    ("assets.person", "GET"): "read",
    ("assets.mine", "GET"): "own",
    ("assets.detail", "GET"): "read",
    ("assets.new", "GET"): "read",
    ("assets.new", "POST"): "manage",
    ("assets.edit", "GET"): "read",
    ("assets.edit", "POST"): "manage",
    ("assets.change_status", "POST"): "manage",
    ("assets.check_out", "POST"): "manage",
    ("assets.check_in", "POST"): "manage",
    ("assets.add_seat", "POST"): "manage",
    ("assets.release_seat", "POST"): "manage",
    ("assets.add_relation", "POST"): "manage",
    ("assets.remove_relation", "POST"): "manage",
    ("assets.link_ticket", "POST"): "work",
    ("assets.link_from_ticket", "POST"): "work",
    ("assets.unlink_ticket", "POST"): "work",
    ("assets.types", "GET"): "read",
    ("assets.types", "POST"): "manage",
    ("assets.type_editor", "GET"): "read",
    ("assets.type_editor", "POST"): "manage",
    ("assets.delete_type", "POST"): "manage",
    ("assets.add_attribute", "POST"): "manage",
    ("assets.update_attribute", "POST"): "manage",
    ("assets.remove_attribute", "POST"): "manage",
    ("assets.upload", "GET"): "read",
    ("assets.upload", "POST"): "manage",
    ("assets.export", "GET"): "read",
    ("assets_api.Assets", "GET"): "own",
    ("assets_api.Assets", "POST"): "manage",
    ("assets_api.MyAssets", "GET"): "own",
    ("assets_api.AssetItem", "GET"): "own",
    ("assets_api.AssetItem", "PATCH"): "manage",
    ("assets_api.change_status", "POST"): "manage",
    ("assets_api.check_out", "POST"): "manage",
    ("assets_api.check_in", "POST"): "manage",
    ("assets_api.transfer", "POST"): "manage",
    ("assets_api.history", "GET"): "read",
    ("assets_api.Seats", "GET"): "read",
    ("assets_api.Seats", "POST"): "manage",
    ("assets_api.release_seat", "DELETE"): "manage",
    ("assets_api.relations", "GET"): "read",
    ("assets_api.add_relation", "POST"): "manage",
    ("assets_api.remove_relation", "DELETE"): "manage",
    ("assets_api.impact", "GET"): "read",
    ("assets_api.AssetTickets", "GET"): "read",
    ("assets_api.AssetTickets", "POST"): "work",
    ("assets_api.unlink_ticket", "DELETE"): "work",
    ("assets_api.Types", "GET"): "read",
    ("assets_api.Types", "POST"): "manage",
    ("assets_api.TypeItem", "GET"): "read",
    ("assets_api.TypeItem", "PATCH"): "manage",
    ("assets_api.TypeItem", "DELETE"): "manage",
    ("assets_api.add_attribute", "POST"): "manage",
    ("assets_api.AttributeItem", "PATCH"): "manage",
    ("assets_api.AttributeItem", "DELETE"): "manage",
    ("assets_api.import_file", "POST"): "manage",
    ("assets_api.export_file", "GET"): "read",
}
ALLOWED = {
    "anonymous": set(),
    "requester": {"own"},
    "agent": {"own", "read", "work"},
    "admin": {"own", "read", "work", "manage"},
}


def test_every_route_has_a_policy(app: Any) -> None:
    served = {(endpoint, method) for endpoint, method, _rule in plugin_routes(app, "assets")}
    assert served == set(POLICY), "give each new route a policy here (and drop removed ones)"


@pytest.fixture
def world(desk: Any, make_user: Any) -> dict[str, Any]:
    """A requester holding a laptop, a licence with a seat, a relation, a linked ticket, a custom type."""
    requester = make_user(email="rita@example.com")
    make_user(email="agent@example.com", role="agent", all_groups=True)
    make_user(email="admin@example.com", role="admin")
    with desk.action(SYSTEM, source="test") as uow:
        laptop = inventory.create_asset(uow, "laptop", {"name": "Rita's", "assigned_to": "rita@example.com"})
        licence = inventory.create_asset(uow, "licence", {"name": "Office", "seats_total": 5})
        seat = licences.assign_seat(uow, licence.asset_tag, {"person": "rita@example.com"})
        relation = cmdb.add_relation(
            uow, {"source": licence.asset_tag, "kind": "installed_on", "target": laptop.asset_tag}
        )
        number = tickets.create_ticket(uow, {"subject": "Broken", "requester": "rita@example.com"}).number
        cmdb.link_ticket(uow, laptop.asset_tag, number)
    return {
        "tag": laptop.asset_tag,
        "seat_id": seat.id,
        "relation_id": relation.id,
        "number": number,
        "key": "laptop",
        "name": "cpu",
        "user_id": requester.id,
        "licence": licence.asset_tag,
    }


def url_for_rule(rule: str, world: dict[str, Any], endpoint: str) -> str:
    values = dict(world)
    if "seat" in endpoint:
        values["tag"] = world["licence"]
    url = rule
    for name, value in values.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return url


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_by_its_policy(role: str, app: Any, client: Any, world: dict[str, Any]) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    if role != "anonymous":
        sign_in(
            client, {"requester": "rita@example.com", "agent": "agent@example.com", "admin": "admin@example.com"}[role]
        )
    # Deletions last, so the other routes still find what they name.
    ordered = sorted(
        plugin_routes(app, "assets"), key=lambda r: (r[1] == "DELETE" or r[0].endswith("remove_attribute"), r[0], r[1])
    )
    wrong = []
    for endpoint, method, rule in ordered:
        url = url_for_rule(rule, world, endpoint)
        api = endpoint.startswith("assets_api.")
        response = client.open(url, method=method, json={} if api and method != "GET" else None)
        status = response.status_code
        allowed = POLICY[(endpoint, method)] in ALLOWED[role]
        if role == "anonymous":
            ok = status == 401 if api else (status == 302 and "/login" in response.headers["Location"])
        elif allowed:
            ok = status < 500 and status not in (401, 403)
        else:
            ok = status in (403, 404)  # 404: the asset is not theirs to know about
        if not ok:
            wrong.append((method, url, status))
    assert wrong == []
