"""The ``frontdesk assets`` commands: listing as JSON, handing assets over, types."""

from __future__ import annotations

import json
from typing import Any

from frontdesk_assets import inventory


def test_assign_checks_out_then_transfers(cli: Any, as_system: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    make_user(email="bob@example.com")
    with as_system() as uow:
        tag = inventory.create_asset(uow, "laptop", {"name": "A"}).asset_tag
    first = cli("assets", "assign", tag, "ann@example.com")
    second = cli("assets", "assign", tag, "bob@example.com", "--until", "2999-01-01")
    assert (first.exit_code, first.output) == (0, f"{tag} is with ann@example.com.\n")
    assert (second.exit_code, second.output) == (0, f"{tag} is with bob@example.com until 2999-01-01.\n")
    listed = cli("assets", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert [(r["asset_tag"], r["status"], r["assigned_to"], r["expected_return"]) for r in rows] == [
        (tag, "deployed", "bob@example.com", "2999-01-01")
    ]


def test_types_list_as_json(cli: Any) -> None:
    result = cli("assets", "type", "list", "--json")
    assert result.exit_code == 0, result.output
    assert {"laptop", "licence"} <= {row["key"] for row in json.loads(result.output)}


def test_type_commands_offer_the_schema_choices_and_explain_their_options(cli: Any) -> None:
    created = cli("assets", "type", "create", "tablet", "--name", "Tablet", "--prefix", "TAB", "--category", "licence")
    assert (created.exit_code, created.output) == (0, "Created type tablet.\n")
    refused = cli("assets", "type", "create", "phone", "--name", "Phone", "--prefix", "PH", "--category", "car")
    assert refused.exit_code == 2
    assert "'hardware', 'licence', 'service'" in refused.output
    added = cli("assets", "type", "add-attribute", "tablet", "screen", "--kind", "number", "--required")
    assert (added.exit_code, added.output) == (0, "Added screen to tablet.\n")
    help_of = {
        "create": cli("assets", "create", "--help").output,
        "type create": cli("assets", "type", "create", "--help").output,
        "add-attribute": " ".join(cli("assets", "type", "add-attribute", "--help").output.split()),
    }
    assert "Asset type key" in help_of["create"]
    assert "Name people know the asset by" in help_of["create"]
    assert "Name shown in lists and forms" in help_of["type create"]
    for phrase in ("Name shown in forms", "must have a value", "may share a value"):
        assert phrase in help_of["add-attribute"], phrase
