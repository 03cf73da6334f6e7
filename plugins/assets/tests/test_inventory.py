"""Assets: numbering, uniqueness, attribute schemas, lifecycle rules, check-out and history, who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from frontdesk_assets import asset_types, inventory
from frontdesk_assets.history import history_of
from frontdesk_assets.inventory import AssetFilter
from frontdesk_assets.lifecycle import RELATION_LABELS, STATUS_LABELS
from frontdesk_assets.models import AssetAttributeValue
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import User
from frontdesk.services import people


def test_tags_are_numbered_per_type_prefix_and_skip_tags_taken_by_hand(as_system: Any) -> None:
    with as_system() as uow:
        first = inventory.create_asset(uow, "laptop", {"name": "X1"})
        inventory.create_asset(uow, "laptop", {"name": "Hand-tagged", "asset_tag": "LAP-000002"})
        third = inventory.create_asset(uow, "laptop", {"name": "X3"})
        monitor = inventory.create_asset(uow, "monitor", {"name": "Dell"})
    assert (first.asset_tag, third.asset_tag, monitor.asset_tag) == ("LAP-000001", "LAP-000003", "MON-000001")


def test_tag_is_unique(as_system: Any) -> None:
    with as_system() as uow:
        inventory.create_asset(uow, "laptop", {"name": "A", "asset_tag": "T-1"})
    with pytest.raises(ValidationError) as caught, as_system() as uow:
        inventory.create_asset(uow, "monitor", {"name": "B", "asset_tag": "T-1"})
    assert "asset_tag" in caught.value.errors


def test_serial_is_unique_per_model(as_system: Any) -> None:
    with as_system() as uow:
        inventory.create_asset(uow, "laptop", {"name": "A", "model": "X1", "serial": "S-1"})
        inventory.create_asset(uow, "laptop", {"name": "B", "model": "T14", "serial": "S-1"})  # another model
    with pytest.raises(ValidationError) as caught, as_system() as uow:
        inventory.create_asset(uow, "laptop", {"name": "C", "model": "X1", "serial": "S-1"})
    assert caught.value.errors == {"serial": ["another X1 has the serial 'S-1'"]}
    with pytest.raises(ValidationError), as_system() as uow:
        inventory.update_asset(uow, "LAP-000002", {"model": "X1"})  # would clash too


def test_attributes_follow_the_type_schema(as_system: Any) -> None:
    with pytest.raises(ValidationError) as caught, as_system() as uow:
        inventory.create_asset(
            uow, "laptop", {"name": "A", "attributes": {"ram_gb": "lots", "os": "BeOS", "colour": "red"}}
        )
    assert set(caught.value.errors) == {"attributes.ram_gb", "attributes.os", "attributes.colour"}
    with as_system() as uow:
        asset = inventory.create_asset(uow, "laptop", {"name": "A", "attributes": {"ram_gb": "16", "os": "Linux"}})
    assert asset.attributes == {"ram_gb": 16.0, "os": "Linux"}


def test_admin_defined_type_with_required_unique_person_and_reference_attributes(
    as_system: Any, make_user: Any
) -> None:
    make_user(email="owner@example.com")
    with as_system() as uow:
        asset_types.create_type(
            uow,
            {
                "key": "badge",
                "name": "Door badge",
                "prefix": "BDG",
                "attributes": [
                    {"name": "number", "kind": "text", "required": True, "unique": True},
                    {"name": "issued", "kind": "date"},
                    {"name": "holder", "kind": "person"},
                    {"name": "reader", "kind": "asset"},
                ],
            },
        )
        reader = inventory.create_asset(uow, "network_device", {"name": "Reader"})
        badge = inventory.create_asset(
            uow,
            "badge",
            {
                "name": "Badge 1",
                "attributes": {
                    "number": "0042",
                    "issued": "2026-01-05",
                    "holder": "OWNER@example.com",
                    "reader": reader.asset_tag,
                },
            },
        )
    assert badge.asset_tag == "BDG-000001"
    assert badge.attributes == {
        "number": "0042",
        "issued": "2026-01-05",
        "holder": "owner@example.com",
        "reader": "NET-000001",
    }
    refused = [
        ({"holder": "owner@example.com"}, {"attributes.number": ["Missing data for required field."]}),
        (
            {"number": "7", "holder": "nobody@example.com"},
            {"attributes.holder": ["no user with the e-mail address 'nobody@example.com'"]},
        ),
        ({"number": "7", "reader": "NOPE"}, {"attributes.reader": ["no asset tagged 'NOPE'"]}),
        ({"number": "0042"}, {"attributes.number": ["another asset has this value"]}),
    ]
    for attributes, errors in refused:
        with pytest.raises(ValidationError) as caught, as_system() as uow:
            inventory.create_asset(uow, "badge", {"name": "Badge 2", "attributes": attributes})
        assert caught.value.errors == errors


def test_indexed_attributes_are_searchable_through_the_value_table(as_system: Any, db: Any) -> None:
    with as_system() as uow:
        inventory.create_asset(uow, "server", {"name": "Mail", "attributes": {"hostname": "mail01"}})
        inventory.create_asset(uow, "server", {"name": "Web", "attributes": {"hostname": "web01"}})
        page = inventory.list_assets(uow, AssetFilter(type="server", attribute="hostname", value="web01"))
        assert [a.name for a in page.items] == ["Web"]
    assert db.scalar(select(AssetAttributeValue.value_text).where(AssetAttributeValue.asset_id == page.items[0].id))
    db.rollback()
    with pytest.raises(ValidationError), as_system() as uow:
        inventory.create_asset(uow, "server", {"name": "Web 2", "attributes": {"hostname": "web01"}})


def test_making_an_attribute_unique_later_checks_existing_assets(as_system: Any) -> None:
    with as_system() as uow:
        inventory.create_asset(uow, "laptop", {"name": "A", "attributes": {"cpu": "M3"}})
        inventory.create_asset(uow, "laptop", {"name": "B", "attributes": {"cpu": "M3"}})
    with pytest.raises(ValidationError), as_system() as uow:
        asset_types.update_attribute(uow, "laptop", "cpu", {"unique": True})
    with as_system() as uow:
        asset_types.update_attribute(uow, "laptop", "cpu", {"indexed": True})
        page = inventory.list_assets(uow, AssetFilter(type="laptop", attribute="cpu", value="M3"))
    assert len(page.items) == 2


def test_lifecycle_transitions_are_enforced(as_system: Any) -> None:
    with as_system() as uow:
        tag = inventory.create_asset(uow, "laptop", {"name": "A", "status": "ordered"}).asset_tag
    with pytest.raises(Conflict, match="cannot go from ordered to deployed"), as_system() as uow:
        inventory.change_status(uow, tag, "deployed")
    for status in ("in_stock", "in_repair", "in_stock", "retired", "disposed"):
        with as_system() as uow:
            inventory.change_status(uow, tag, status)
    for status in ("in_stock", "deployed", "retired"):
        with pytest.raises(Conflict), as_system() as uow:
            inventory.change_status(uow, tag, status)
    with pytest.raises(ValidationError), as_system() as uow:
        inventory.create_asset(uow, "laptop", {"name": "B", "status": "retired"})
    with pytest.raises(ValidationError, match="lifecycle transition"), as_system() as uow:
        inventory.update_asset(uow, tag, {"status": "in_stock"})


def test_check_out_return_and_transfer_with_history(as_system: Any, make_user: Any) -> None:
    ann, bob = make_user(email="ann@example.com"), make_user(email="bob@example.com")
    back = date.today() + timedelta(days=14)
    with as_system() as uow:
        tag = inventory.create_asset(uow, "laptop", {"name": "A"}).asset_tag
        asset = inventory.check_out(uow, tag, {"person": "ann@example.com", "expected_return": back.isoformat()})
        assert (asset.status, asset.assigned_to_id, asset.expected_return) == ("deployed", ann.id, back)
    with pytest.raises(Conflict, match="transfer it instead"), as_system() as uow:
        inventory.check_out(uow, tag, {"person": "bob@example.com"})
    with as_system() as uow:
        inventory.transfer(uow, tag, {"person": "bob@example.com"})
        assert [a.asset_tag for a in inventory.assets_of(uow, bob.id)] == [tag]
        asset = inventory.check_in(uow, tag)
        assert (asset.status, asset.assigned_to_id, asset.expected_return) == ("in_stock", None, None)
        rows = [(h.field, h.old, h.new) for h in reversed(history_of(uow, asset))]
    assert rows == [
        ("created", None, tag),
        ("status", "in_stock", "deployed"),
        ("assigned_to", None, "ann@example.com"),
        ("expected_return", None, back.isoformat()),
        ("assigned_to", "ann@example.com", "bob@example.com"),
        ("expected_return", back.isoformat(), None),
        ("status", "deployed", "in_stock"),
        ("assigned_to", "bob@example.com", None),
    ]
    with pytest.raises(Conflict, match="not checked out"), as_system() as uow:
        inventory.check_in(uow, tag)
    with pytest.raises(ValidationError, match="in the past"), as_system() as uow:
        inventory.check_out(uow, tag, {"person": "ann@example.com", "expected_return": "2020-01-01"})


def test_hand_over_checks_out_then_transfers(as_system: Any, make_user: Any) -> None:
    ann, bob = make_user(email="ann@example.com"), make_user(email="bob@example.com")
    with as_system() as uow:
        tag = inventory.create_asset(uow, "laptop", {"name": "A"}).asset_tag
        asset = inventory.hand_over(uow, tag, {"person": "ann@example.com"})
        assert (asset.status, asset.assigned_to_id) == ("deployed", ann.id)
        asset = inventory.hand_over(uow, tag, {"person": "bob@example.com"})
        assert (asset.status, asset.assigned_to_id) == ("deployed", bob.id)
        rows = [(h.field, h.old, h.new) for h in reversed(history_of(uow, asset)) if h.field != "expected_return"]
    assert rows == [
        ("created", None, tag),
        ("status", "in_stock", "deployed"),
        ("assigned_to", None, "ann@example.com"),
        ("assigned_to", "ann@example.com", "bob@example.com"),
    ]
    with pytest.raises(Conflict, match="already with bob@"), as_system() as uow:
        inventory.hand_over(uow, tag, {"person": "BOB@example.com"})
    with pytest.raises(ValidationError, match="no user"), as_system() as uow:
        inventory.hand_over(uow, tag, {"person": "nobody@example.com"})
    carl = make_user(email="carl@example.com")
    with as_system() as uow:
        uow.session.get(User, carl.id).active = False
    with pytest.raises(ValidationError, match="is deactivated"), as_system() as uow:
        inventory.hand_over(uow, tag, {"person": "carl@example.com"})


def test_retiring_ends_the_assignment_and_services_are_not_checked_out(as_system: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    with as_system() as uow:
        tag = inventory.create_asset(uow, "laptop", {"name": "A", "assigned_to": "ann@example.com"}).asset_tag
        asset = inventory.change_status(uow, tag, "retired")
        assert (asset.status, asset.assigned_to_id) == ("retired", None)
        service = inventory.create_asset(uow, "service", {"name": "Email"})
        assert service.status == "deployed"
    with pytest.raises(Conflict, match="not checked out to people"), as_system() as uow:
        inventory.check_out(uow, service.asset_tag, {"person": "ann@example.com"})
    with pytest.raises(ValidationError), as_system() as uow:
        inventory.create_asset(uow, "service", {"name": "VPN", "assigned_to": "ann@example.com"})


def test_edits_record_every_changed_field(as_system: Any) -> None:
    with as_system() as uow:
        people.create_organization(uow, {"name": "ACME"})
        tag = inventory.create_asset(uow, "laptop", {"name": "A", "location": "HQ"}).asset_tag
        asset = inventory.update_asset(
            uow, tag, {"location": "Lab", "organization": "ACME", "purchase_cost": "999.5", "name": "A"}
        )
        rows = {(h.field, h.old, h.new) for h in history_of(uow, asset)}
    assert {("location", "HQ", "Lab"), ("organization", None, "ACME"), ("purchase_cost", None, "999.50")} <= rows
    assert not any(field == "name" for field, _old, _new in rows)


def test_agents_read_managers_change_requesters_see_their_own(desk: Desk, make_user: Any, as_system: Any) -> None:
    agent, requester = make_user(role="agent"), make_user(email="rita@example.com")
    other = make_user(email="olga@example.com")
    with as_system() as uow:
        mine = inventory.create_asset(uow, "laptop", {"name": "Rita's", "assigned_to": "rita@example.com"}).asset_tag
        theirs = inventory.create_asset(uow, "laptop", {"name": "Olga's", "assigned_to": "olga@example.com"}).asset_tag
    with desk.reading(agent) as uow:
        assert len(inventory.list_assets(uow, AssetFilter()).items) == 2
    with pytest.raises(PermissionDenied), desk.action(agent, source="test") as uow:
        inventory.create_asset(uow, "laptop", {"name": "B"})
    with desk.reading(requester) as uow:
        assert [a.asset_tag for a in inventory.list_assets(uow, AssetFilter()).items] == [mine]
        assert inventory.get_asset(uow, mine).name == "Rita's"
        with pytest.raises(NotFound):
            inventory.get_asset(uow, theirs)
        with pytest.raises(PermissionDenied):
            inventory.assets_of(uow, other.id)
    with pytest.raises(PermissionDenied), desk.action(requester, source="test") as uow:
        inventory.check_in(uow, mine)


def test_keyset_pagination_and_search(as_system: Any) -> None:
    with as_system() as uow:
        for n in range(7):
            inventory.create_asset(uow, "monitor", {"name": f"Screen {n}", "serial": f"SN{n}"})
        first = inventory.list_assets(uow, AssetFilter(), limit=3)
        second = inventory.list_assets(uow, AssetFilter(), cursor=first.next_cursor, limit=3)
        third = inventory.list_assets(uow, AssetFilter(), cursor=second.next_cursor, limit=3)
        assert [a.name for a in first.items + second.items + third.items] == [f"Screen {n}" for n in range(6, -1, -1)]
        assert third.next_cursor is None
        assert [a.name for a in inventory.list_assets(uow, AssetFilter(q="SN3")).items] == ["Screen 3"]
        assert len(inventory.list_assets(uow, AssetFilter(q="screen")).items) == 7
        assert inventory.list_assets(uow, AssetFilter(q="100%")).items == []


def test_labels_read_as_words_and_match_stored_strings() -> None:
    assert [STATUS_LABELS[s] for s in ("ordered", "in_stock", "deployed", "in_repair", "retired", "disposed")] == [
        "Ordered",
        "In stock",
        "Deployed",
        "In repair",
        "Retired",
        "Disposed",
    ]
    assert [RELATION_LABELS[k] for k in ("depends_on", "runs_on", "connected_to", "installed_on", "part_of")] == [
        "depends on",
        "runs on",
        "connected to",
        "installed on",
        "part of",
    ]
