"""Pages, panels and API: what agents, admins and requesters see and do through the web."""

from __future__ import annotations

import io
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from frontdesk_assets import asset_types, cmdb, inventory

from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tickets

HEADER = "asset_tag,name,serial,model,status,assigned_to,ram_gb,os\n"


@pytest.fixture
def sign_in(app: Any, client: Any, make_user: Any) -> Any:
    """``sign_in(role)`` creates a user of that role and signs the test client in as them."""
    app.config["WTF_CSRF_ENABLED"] = False

    def login(role: str, email: str | None = None) -> Any:
        user = make_user(role=role, email=email or f"{role}@example.com", all_groups=role == "agent")
        client.post("/login", data={"email": user.email, "password": "password123"})
        return user

    return login


def test_list_filters_searches_and_warns(desk: Any, client: Any, sign_in: Any, make_user: Any) -> None:
    make_user(email="ann@example.com", name="Ann")
    soon = date.today() + timedelta(days=5)
    with desk.action(SYSTEM, source="test") as uow:
        inventory.create_asset(uow, "laptop", {"name": "ThinkPad", "serial": "TP1", "assigned_to": "ann@example.com"})
        inventory.create_asset(uow, "monitor", {"name": "Dell U27", "warranty_end": soon.isoformat()})
    sign_in("agent")
    page = client.get("/assets/").get_data(as_text=True)
    assert "ThinkPad" in page
    assert "Dell U27" in page
    assert "1 warranty ending soon" in page
    assert "Dell U27" not in client.get("/assets/?type=laptop").get_data(as_text=True)
    assert "ThinkPad" not in client.get("/assets/?q=Dell").get_data(as_text=True)
    assert "ThinkPad" not in client.get("/assets/?warning=warranty").get_data(as_text=True)
    assert "Assets" in page
    assert 'href="/assets/"' in page


def test_admin_records_checks_out_and_returns_through_the_pages(
    desk: Any, client: Any, sign_in: Any, make_user: Any
) -> None:
    make_user(email="ann@example.com")
    sign_in("admin")
    created = client.post("/assets/new", data={"type": "laptop", "name": "X1", "attr.ram_gb": "16", "attr.os": "Linux"})
    assert created.headers["Location"].endswith("/assets/items/LAP-000001")
    refused = client.post("/assets/new", data={"type": "laptop", "name": "", "attr.ram_gb": "lots"})
    assert refused.status_code == 422
    assert "Not a valid number." in refused.get_data(as_text=True)
    client.post(
        "/assets/items/LAP-000001/checkout", data={"person": "ann@example.com", "expected_return": "2099-01-01"}
    )
    page = client.get("/assets/items/LAP-000001").get_data(as_text=True)
    assert "ann@example.com" in page
    assert "until 2099-01-01" in page
    assert "Return to stock" in page
    client.post("/assets/items/LAP-000001/checkin")
    client.post("/assets/items/LAP-000001/status", data={"status": "in_repair"})
    flashed = client.post("/assets/items/LAP-000001/status", data={"status": "ordered"}, follow_redirects=True)
    assert "cannot go from in repair to ordered" in flashed.get_data(as_text=True)
    history = client.get("/assets/items/LAP-000001").get_data(as_text=True)
    assert "in_repair" in history
    with desk.action(SYSTEM, source="test") as uow:
        people.create_organization(uow, {"name": "ACME"})
    client.post("/assets/items/LAP-000001/edit", data={"name": "X1", "organization": "ACME", "attr.os": "Linux"})
    form = client.get("/assets/items/LAP-000001/edit").get_data(as_text=True)
    assert 'value="ACME"' in form
    client.post("/assets/items/LAP-000001/edit", data={"name": "X1 Carbon", "location": "Lab", "attr.os": "Windows"})
    with desk.reading(SYSTEM) as uow:
        asset = inventory.get_asset(uow, "LAP-000001")
        assert (asset.name, asset.location, asset.attributes) == ("X1 Carbon", "Lab", {"os": "Windows"})
        assert asset.organization.name == "ACME"  # not in that form: left alone


def test_detail_shows_relations_impact_picture_and_tickets(desk: Any, client: Any, sign_in: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        server = inventory.create_asset(uow, "server", {"name": "mail01"}).asset_tag
        service = inventory.create_asset(uow, "service", {"name": "Email"}).asset_tag
        cmdb.add_relation(uow, {"source": service, "kind": "runs_on", "target": server})
        number = tickets.create_ticket(uow, {"subject": "Mail is down", "requester": "rita@example.com"}).number
        cmdb.link_ticket(uow, server, number)
    sign_in("agent")
    page = client.get(f"/assets/items/{server}").get_data(as_text=True)
    assert "Email" in page
    assert "runs on" in page
    assert "<svg" in page
    assert "SVC-000001" in page.split("<svg", 1)[1]
    assert "Mail is down" in page
    needs = client.get(f"/assets/items/{service}?direction=dependencies&depth=2").get_data(as_text=True)
    assert "What it depends on" in needs
    assert server in needs.split('id="impact-list"', 1)[1]


def test_ticket_sidebar_shows_equipment_and_linked_items_and_links_more(
    desk: Any, client: Any, sign_in: Any, make_user: Any
) -> None:
    make_user(email="rita@example.com", name="Rita")
    with desk.action(SYSTEM, source="test") as uow:
        inventory.create_asset(uow, "laptop", {"name": "Rita laptop", "assigned_to": "rita@example.com"})
        vpn = inventory.create_asset(uow, "service", {"name": "VPN"}).asset_tag
        crm = inventory.create_asset(uow, "service", {"name": "CRM"}).asset_tag
        relation = cmdb.add_relation(uow, {"source": crm, "kind": "depends_on", "target": vpn}).id
        number = tickets.create_ticket(uow, {"subject": "No VPN", "requester": "rita@example.com"}).number
    sign_in("agent")
    linked = client.post(f"/assets/tickets/{number}/link", data={"tag": vpn})
    assert linked.headers["Location"].endswith(f"/agent/tickets/{number}")
    page = client.get(f"/agent/tickets/{number}").get_data(as_text=True)
    panel = page.split('id="assets-panel-heading"', 1)[1]
    assert "Rita laptop" in panel
    assert "VPN" in panel
    assert "1 affected" in panel
    assert [t["number"] for t in client.get(f"/api/v1/assets/items/{vpn}/tickets").json["open"]] == [number]
    assert f'data-confirm="Unlink {vpn} from #{number}?"' in panel
    unlink, back = f"/assets/items/{vpn}/tickets/{number}/unlink", {"next": f"/agent/tickets/{number}"}
    asked = client.post(unlink, data=back).get_data(as_text=True)
    assert f"Remove link “{vpn} ↔ #{number}”?" in unescape(asked)
    assert f'name="next" value="/agent/tickets/{number}"' in asked
    assert "1 affected" in client.get(f"/agent/tickets/{number}").get_data(as_text=True)
    client.post(unlink, data=back | {"confirm": "yes"})
    assert "No item linked." in client.get(f"/agent/tickets/{number}").get_data(as_text=True)

    client.post("/logout")
    sign_in("admin")
    remove = f"/assets/items/{vpn}/relations/{relation}/remove"
    assert f'data-confirm="Remove the relation “{crm} depends on {vpn}”?"' in unescape(
        client.get(f"/assets/items/{vpn}").get_data(as_text=True)
    )
    asked = client.post(remove).get_data(as_text=True)
    assert f"Remove relation “{crm} depends on {vpn}”?" in unescape(asked)
    assert client.post(f"/assets/items/{vpn}/relations/{relation + 99}/remove").status_code == 404, "not asked"
    assert len(client.get(f"/api/v1/assets/items/{vpn}/relations").json["incoming"]) == 1
    client.post(remove, data={"confirm": "yes"})
    assert client.get(f"/api/v1/assets/items/{vpn}/relations").json["incoming"] == []


def test_hook_frontdesk_slot_portal_home_shows_my_equipment(desk: Any, client: Any, sign_in: Any) -> None:
    sign_in("requester", "rita@example.com")
    assert "My equipment" not in client.get("/portal/").get_data(as_text=True)
    with desk.action(SYSTEM, source="test") as uow:
        inventory.create_asset(uow, "laptop", {"name": "Rita laptop", "assigned_to": "rita@example.com"})
        inventory.create_asset(uow, "laptop", {"name": "Somebody else"})
    page = client.get("/portal/").get_data(as_text=True)
    assert "My equipment" in page
    assert "Rita laptop" in page
    assert "Somebody else" not in page
    mine = client.get("/assets/mine").get_data(as_text=True)
    assert "Rita laptop" in mine
    assert "Somebody else" not in mine
    assert [a["name"] for a in client.get("/api/v1/assets/mine").json] == ["Rita laptop"]
    assert [a["name"] for a in client.get("/api/v1/assets/items").json["items"]] == ["Rita laptop"]
    assert client.get("/assets/").status_code == 403


def test_a_persons_page_lists_their_assets(desk: Any, client: Any, sign_in: Any, make_user: Any) -> None:
    ann = make_user(email="ann@example.com", name="Ann")
    with desk.action(SYSTEM, source="test") as uow:
        inventory.create_asset(uow, "phone", {"name": "Pixel", "assigned_to": "ann@example.com"})
    sign_in("agent")
    page = client.get(f"/assets/people/{ann.id}").get_data(as_text=True)
    assert "Ann's assets" in page
    assert "Pixel" in page


def test_upload_page_reports_rows_and_imports(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    bad = HEADER + ",A,S1,X1,,,16,Linux\n,B,S2,X1,,,fast,Linux\n"
    answer = client.post("/assets/import", data={"type": "laptop", "file": (io.BytesIO(bad.encode()), "laptops.csv")})
    assert answer.status_code == 422
    assert "Nothing written" in answer.get_data(as_text=True)
    assert "Not a valid number." in answer.get_data(as_text=True)
    good = bad.replace("fast", "8")
    answer = client.post("/assets/import", data={"type": "laptop", "file": (io.BytesIO(good.encode()), "l.csv")})
    assert "Imported" in answer.get_data(as_text=True)
    exported = client.get("/assets/export?type=laptop").get_data(as_text=True)
    assert exported.splitlines()[0].startswith("asset_tag,name,serial")
    assert "LAP-000002" in exported


def test_type_editor_adds_changes_and_removes_attributes(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    client.post("/assets/types", data={"key": "tablet", "name": "Tablet", "prefix": "TAB", "category": "hardware"})
    client.post("/assets/types/tablet/attributes", data={"name": "screen", "kind": "choice", "choices": "10in, 12in"})
    client.post(
        "/assets/types/tablet/attributes/screen", data={"label": "Screen size", "required": "on", "choices": "11in"}
    )
    page = client.get("/assets/types/tablet").get_data(as_text=True)
    assert "Screen size" in page
    assert 'value="11in"' in page
    types = {t["key"]: t for t in client.get("/api/v1/assets/types").json}
    assert types["tablet"]["attributes"][0] | {"position": 0} == {
        "name": "screen",
        "label": "Screen size",
        "kind": "choice",
        "required": True,
        "unique": False,
        "indexed": False,
        "choices": ["11in"],
        "position": 0,
    }
    assert 'data-confirm="Remove the attribute “Screen size”' in unescape(page)
    asked = client.post("/assets/types/tablet/attributes/screen/remove")
    assert asked.status_code == 200
    assert "Remove attribute “Screen size”?" in unescape(asked.get_data(as_text=True))
    assert client.post("/assets/types/tablet/attributes/nothing/remove").status_code == 404, "not asked"
    assert len(client.get("/api/v1/assets/types/tablet").json["attributes"]) == 1
    client.post("/assets/types/tablet/attributes/screen/remove", data={"confirm": "yes"})
    assert client.get("/api/v1/assets/types/tablet").json["attributes"] == []


def test_api_covers_assets_seats_relations_impact_tickets_and_csv(
    desk: Any, client: Any, sign_in: Any, make_user: Any
) -> None:
    make_user(email="ann@example.com")
    sign_in("admin")
    created = client.post("/api/v1/assets/items", json={"type": "licence", "name": "Office", "seats_total": 1})
    assert created.status_code == 201
    tag = created.json["asset_tag"]
    assert client.post(f"/api/v1/assets/items/{tag}/seats", json={"person": "ann@example.com"}).status_code == 201
    full = client.post(f"/api/v1/assets/items/{tag}/seats", json={"person": "admin@example.com"})
    assert (full.status_code, full.json["code"]) == (409, "conflict")
    assert "all 1 seats" in full.json["message"]
    invalid = client.post("/api/v1/assets/items", json={"type": "laptop", "name": "", "purchase_cost": "-1"})
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]) >= {"name", "purchase_cost"}
    laptop = client.post(
        "/api/v1/assets/items", json={"type": "laptop", "name": "X1", "attributes": {"os": "Linux"}}
    ).json
    client.post("/api/v1/assets/relations", json={"source": tag, "kind": "installed_on", "target": laptop["asset_tag"]})
    impact = client.get(f"/api/v1/assets/items/{laptop['asset_tag']}/impact?depth=2").json
    assert [i["asset_tag"] for i in impact["items"]] == [tag]
    out = client.post(f"/api/v1/assets/items/{laptop['asset_tag']}/checkout", json={"person": "ann@example.com"})
    assert (out.status_code, out.json["status"], out.json["assigned_to"]) == (200, "deployed", "ann@example.com")
    history = client.get(f"/api/v1/assets/items/{laptop['asset_tag']}/history").json
    assert {"field": "assigned_to", "old": None, "new": "ann@example.com"}.items() <= history[0].items() or any(
        h["field"] == "assigned_to" for h in history
    )
    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "Broken", "requester": "ann@example.com"}).number
    linked = client.post(f"/api/v1/assets/items/{laptop['asset_tag']}/tickets", json={"ticket": number})
    assert [t["number"] for t in linked.json["open"]] == [number]
    upload = client.post(
        "/api/v1/assets/import?type=laptop&dry_run=true",
        data=(HEADER + ",Y,S9,X1,,,,Linux\n").encode(),
        content_type="text/csv",
    )
    assert upload.json | {"errors": []} == {
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "written": False,
        "errors": [],
    }
    refused = client.post(
        "/api/v1/assets/import?type=laptop", data=(HEADER + ",,S9,X1,,,,\n").encode(), content_type="text/csv"
    )
    assert refused.status_code == 422
    assert refused.json["errors"] == [{"row": 2, "column": "name", "message": "Missing data for required field."}]
    assert "text/csv" in client.get("/api/v1/assets/export?type=laptop").content_type
    page = client.get("/api/v1/assets/items?limit=1").json
    second = client.get(f"/api/v1/assets/items?limit=1&cursor={page['next_cursor']}").json
    assert page["items"][0]["asset_tag"] != second["items"][0]["asset_tag"]


def test_the_list_and_detail_pages_query_assets_the_same_whatever_the_number_of_rows(
    desk: Any, client: Any, sign_in: Any, make_user: Any
) -> None:
    from sqlalchemy import event

    sign_in("agent")

    def queries(url: str) -> int:
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "assets_" in statement:  # the core's own queries vary with its caches' timing
                seen.append(statement)

        event.listen(desk.db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(desk.db.engine, "before_cursor_execute", count)
        return len(seen)

    def add(n: int, first: int) -> None:
        for i in range(first, first + n):
            make_user(email=f"holder{i}@example.com")
        with desk.action(SYSTEM, source="test") as uow:
            for i in range(first, first + n):
                data = {"name": f"L{i}", "assigned_to": f"holder{i}@example.com"}
                tag = inventory.create_asset(uow, "laptop", data).asset_tag
                cmdb.add_relation(uow, {"source": tag, "kind": "depends_on", "target": "SVC-000001"})

    with desk.action(SYSTEM, source="test") as uow:
        inventory.create_asset(uow, "service", {"name": "Directory"})
    add(2, 0)
    few = (queries("/assets/"), queries("/assets/items/SVC-000001"))
    add(20, 2)
    assert (queries("/assets/"), queries("/assets/items/SVC-000001")) == few


def test_api_edits_of_types_and_attributes_keep_the_definition_rules(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    client.post("/assets/types", data={"key": "tablet", "name": "Tablet", "prefix": "TAB", "category": "hardware"})
    client.post("/assets/types/tablet/attributes", data={"name": "screen", "kind": "text"})
    bad_prefix = client.patch("/api/v1/assets/types/tablet", json={"prefix": "tab-lower"})
    assert bad_prefix.status_code == 422
    assert "prefix" in str(bad_prefix.json)
    renamed = client.patch("/api/v1/assets/types/tablet", json={"name": "Slate"})
    assert (renamed.status_code, renamed.json["name"], renamed.json["prefix"]) == (200, "Slate", "TAB")
    too_long = client.patch("/api/v1/assets/types/tablet/attributes/screen", json={"label": "x" * 101})
    assert too_long.status_code == 422
    assert "label" in str(too_long.json)
    relabelled = client.patch("/api/v1/assets/types/tablet/attributes/screen", json={"label": "Screen"})
    assert (relabelled.status_code, relabelled.json["label"], relabelled.json["kind"]) == (200, "Screen", "text")
    spec = client.get("/api/openapi.json").json
    assert {"patch", "delete"} <= set(spec["paths"]["/api/v1/assets/types/{key}"])
    assert "patch" in spec["paths"]["/api/v1/assets/types/{key}/attributes/{name}"]


def test_admin_deletes_an_unused_type_from_its_page(desk: Any, client: Any, sign_in: Any) -> None:
    sign_in("admin")
    client.post("/assets/types", data={"key": "tablet", "name": "Tablet", "prefix": "TAB", "category": "hardware"})
    client.post("/assets/types", data={"key": "scanner", "name": "Scanner", "prefix": "SCN", "category": "hardware"})
    assert "Delete type" in client.get("/assets/types/tablet").get_data(as_text=True)
    assert "Delete type" not in client.get("/assets/types/laptop").get_data(as_text=True)  # built-in
    with desk.action(SYSTEM, source="test") as uow:
        inventory.create_asset(uow, "scanner", {"name": "Hall scanner"})
    assert 'data-confirm="Delete the asset type “Tablet”?' in client.get("/assets/types/tablet").get_data(as_text=True)
    # Without the page script's dialog, the server asks first and deletes nothing.
    asked = client.post("/assets/types/tablet/delete")
    assert asked.status_code == 200
    assert "Delete asset type “Tablet”?" in asked.get_data(as_text=True)
    assert 'action="/assets/types/tablet/delete"' in asked.get_data(as_text=True)
    assert 'name="confirm" value="yes"' in asked.get_data(as_text=True)
    assert client.get("/assets/types/tablet").status_code == 200
    confirm = {"confirm": "yes"}
    deleted = client.post("/assets/types/tablet/delete", data=confirm, follow_redirects=True).get_data(as_text=True)
    assert "Deleted type tablet." in deleted
    assert client.get("/assets/types/tablet").status_code == 404
    assert client.post("/assets/types/tablet/delete").status_code == 404
    used = client.post("/assets/types/scanner/delete", data=confirm, follow_redirects=True).get_data(as_text=True)
    assert "assets of type &#39;scanner&#39; exist" in used
    assert client.get("/assets/types/scanner").status_code == 200


def test_only_managers_delete_types(desk: Any, client: Any, sign_in: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        asset_types.create_type(uow, {"key": "tablet", "name": "Tablet", "prefix": "TAB"})
    sign_in("agent")
    assert "Delete type" not in client.get("/assets/types/tablet").get_data(as_text=True)
    assert client.post("/assets/types/tablet/delete").status_code == 403
    assert client.post("/assets/types/tablet/delete", data={"confirm": "yes"}).status_code == 403
    with desk.reading(SYSTEM) as uow:
        assert asset_types.read_type(uow, "tablet").name == "Tablet"


def test_api_creates_a_type_without_attributes(client: Any, sign_in: Any) -> None:
    sign_in("admin")
    made = client.post(
        "/api/v1/assets/types", json={"key": "tablet", "name": "Tablet", "prefix": "TAB", "category": "hardware"}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assert (made.json["key"], made.json["attributes"]) == ("tablet", [])
