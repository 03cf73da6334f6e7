"""CSV import and export: every row checked first, row-level errors, all-or-nothing, updates by tag or serial."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from frontdesk_assets import inventory
from frontdesk_assets.models import Asset, AssetHistory
from frontdesk_assets.transfer_csv import import_csv
from sqlalchemy import func, select

HEADER = "asset_tag,name,serial,model,status,assigned_to,purchase_date,purchase_cost,ram_gb,os\n"


def _count(db: Any) -> int:
    count = db.scalar(select(func.count()).select_from(Asset))
    db.rollback()
    return count


def test_a_bad_row_in_ten_thousand_writes_nothing(as_system: Any, db: Any) -> None:
    rows = [f",Laptop {n},SN{n},X1,in_stock,,2025-01-02,1200.00,16,Linux\n" for n in range(10_000)]
    rows[7_345] = ",Laptop bad,SN7345,X1,in_stock,,2025-13-02,1200.00,16,Linux\n"
    with as_system() as uow:
        report = import_csv(uow, "laptop", io.StringIO(HEADER + "".join(rows)))
    assert not report.written
    assert [(e.row, e.column) for e in report.errors] == [(7_347, "purchase_date")]
    assert _count(db) == 0
    rows[7_345] = ",Laptop 7345,SN7345,X1,in_stock,,2025-12-02,1200.00,16,Linux\n"
    with as_system() as uow:
        report = import_csv(uow, "laptop", io.StringIO(HEADER + "".join(rows)))
    assert (report.written, report.created, report.errors) == (True, 10_000, [])
    assert _count(db) == 10_000
    assert db.scalar(select(func.count()).select_from(AssetHistory)) == 10_000
    assert db.scalar(select(func.max(Asset.asset_tag))) == "LAP-010000"
    db.rollback()


def test_row_errors_name_row_column_and_message_and_skip_invalid_writes_the_rest(
    as_system: Any, make_user: Any, db: Any
) -> None:
    make_user(email="ann@example.com")
    text = HEADER + (
        ",Good,S1,X1,,ann@example.com,,,8,Linux\n"
        ",,S2,X1,,,,,,\n"
        ",Dup,S1,X1,,,,,,\n"
        ",Who,S3,X1,,nobody@example.com,,,,\n"
        ",Bad os,S4,X1,,,,-3,many,BeOS\n"
    )
    with as_system() as uow:
        report = import_csv(uow, "laptop", io.StringIO(text), skip_invalid=True)
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert errors == {
        (3, "name"): "Missing data for required field.",
        (4, "serial"): "another X1 has the serial 'S1'",
        (5, "assigned_to"): "no user with the e-mail address 'nobody@example.com'",
        (6, "purchase_cost"): "Must be greater than or equal to 0.",
    } | {k: v for k, v in errors.items() if k[0] == 6 and k[1] in ("ram_gb", "os")}
    assert {(6, "ram_gb"), (6, "os")} <= set(errors)
    assert (report.written, report.created, report.invalid_rows) == (True, 1, 4)
    with as_system() as uow:
        (asset,) = inventory.list_assets(uow, inventory.AssetFilter()).items
        assert (asset.name, asset.status, asset.assigned_to.email) == ("Good", "deployed", "ann@example.com")


def test_unknown_columns_are_refused_before_any_row(as_system: Any) -> None:
    with as_system() as uow:
        report = import_csv(uow, "laptop", io.StringIO("name,colour\nA,red\n"))
    assert [(e.row, e.column) for e in report.errors] == [(1, "colour")]


def test_rows_update_assets_matched_by_tag_or_serial_and_dry_run_writes_nothing(as_system: Any) -> None:
    with as_system() as uow:
        tagged = inventory.create_asset(uow, "laptop", {"name": "Old name", "serial": "S1", "model": "X1"})
        inventory.create_asset(uow, "laptop", {"name": "By serial", "serial": "S2", "model": "X1"})
    text = HEADER + f"{tagged.asset_tag},New name,,,in_repair,,,,,\n,,S2,,,,,,32,\n,Brand new,S3,X1,,,,,,\n"
    with as_system() as uow:
        dry = import_csv(uow, "laptop", io.StringIO(text), dry_run=True)
        assert (dry.written, dry.created, dry.updated) == (False, 1, 2)
        assert inventory.get_asset(uow, tagged.asset_tag).name == "Old name"
    with as_system() as uow:
        report = import_csv(uow, "laptop", io.StringIO(text))
        assert (report.created, report.updated) == (1, 2)
        first = inventory.get_asset(uow, tagged.asset_tag)
        assert (first.name, first.status) == ("New name", "in_repair")
        assert inventory.list_assets(uow, inventory.AssetFilter(q="S2")).items[0].attributes == {"ram_gb": 32.0}
    with as_system() as uow:  # importing the same file again changes nothing; a bad transition is a row error
        again = import_csv(uow, "laptop", io.StringIO(text.replace(",Brand new,S3,", "LAP-000003,Brand new,S3,")))
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
        bad = import_csv(uow, "laptop", io.StringIO(HEADER + f"{tagged.asset_tag},,,,ordered,,,,,\n"))
        assert [(e.row, e.column) for e in bad.errors] == [(2, "status")]


def test_cli_import_export_list_round_trip(cli: Any, tmp_path: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    source = tmp_path / "laptops.csv"
    source.write_text(HEADER + ",A,S1,X1,,ann@example.com,2025-01-02,999.90,16,Linux\n,=B(),S2,X1,,,,,,\n")
    result = cli("assets", "import", str(source), "--type", "laptop", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would create 2" in result.output
    assert cli("assets", "import", str(source), "--type", "laptop").exit_code == 0
    listed = json.loads(cli("assets", "list", "--type", "laptop", "--json").output)
    assert [(a["asset_tag"], a["assigned_to"]) for a in listed] == [
        ("LAP-000002", None),
        ("LAP-000001", "ann@example.com"),
    ]
    exported = list(csv.DictReader(io.StringIO(cli("assets", "export", "--type", "laptop").output)))
    assert exported[0]["purchase_cost"] == "999.90"
    assert exported[1]["name"] == "'=B()", "a spreadsheet shows it as text, never runs it as a formula"
    assert (exported[0]["assigned_to"], exported[0]["os"], exported[1]["status"]) == (
        "ann@example.com",
        "Linux",
        "in_stock",
    )
    # the export imports back unchanged
    round_trip = tmp_path / "again.csv"
    round_trip.write_text(cli("assets", "export", "--type", "laptop").output)
    result = cli("assets", "import", str(round_trip), "--type", "laptop")
    assert "created 0, updated 0" in result.output, result.output


def test_cli_errors_are_one_line_per_row_and_exit_non_zero(cli: Any, tmp_path: Any) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(HEADER + ",A,S1,X1,,,,,,\n,B,S2,X1,,,,,fast,\n")
    result = cli("assets", "import", str(source), "--type", "laptop")
    assert result.exit_code != 0
    assert "row 3, ram_gb: Not a valid number." in result.output
    assert "1 of 2 rows are invalid; nothing was written" in result.output
    assert json.loads(cli("assets", "list", "--json").output) == []


def test_cli_types_assign_return_relate_and_impact(cli: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    assert cli("assets", "type", "create", "tablet", "--name", "Tablet", "--prefix", "TAB").exit_code == 0
    assert (
        cli(
            "assets",
            "type",
            "add-attribute",
            "tablet",
            "screen",
            "--kind",
            "choice",
            "--choice",
            "10in",
            "--choice",
            "12in",
        ).exit_code
        == 0
    )
    assert (
        cli("assets", "create", "--type", "tablet", "--name", "iPad", "--set", "attr.screen=12in").output
        == "Created TAB-000001.\n"
    )
    assert (
        "ann@example.com until 2099-01-01"
        in cli("assets", "assign", "TAB-000001", "ann@example.com", "--until", "2099-01-01").output
    )
    assert cli("assets", "return", "TAB-000001").output == "TAB-000001 is back in stock.\n"
    refused = cli("assets", "status", "TAB-000001", "ordered")
    assert refused.exit_code == 1
    assert "cannot go from in stock to ordered" in refused.output
    cli("assets", "create", "--type", "service", "--name", "Mail")
    assert cli("assets", "relate", "SVC-000001", "runs_on", "TAB-000001").exit_code == 0
    assert "SVC-000001" in cli("assets", "impact", "TAB-000001").output
    assert cli("assets", "create", "--type", "licence", "--name", "Office", "--set", "seats_total=1").exit_code == 0
    assert (
        cli("assets", "seat", "LIC-000001", "--person", "ann@example.com").output
        == "LIC-000001: 1 of 1 seats in use.\n"
    )
    full = cli("assets", "seat", "LIC-000001", "--device", "TAB-000001")
    assert full.exit_code == 1
    assert "all 1 seats of LIC-000001 are in use" in full.output
    shown = json.loads(cli("assets", "show", "SVC-000001").output)
    assert (shown["type"], shown["relations"]) == ("service", ["runs_on TAB-000001"])
    types = json.loads(cli("assets", "type", "list", "--json").output)
    assert [a["name"] for t in types if t["key"] == "tablet" for a in t["attributes"]] == ["screen"]
