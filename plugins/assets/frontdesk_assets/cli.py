"""``frontdesk assets ...``: import and export CSV, list assets, manage types and attributes, assign and return."""

from __future__ import annotations

import sys
from typing import Any

import click

from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.errors import ValidationError
from frontdesk.permissions import SYSTEM
from frontdesk_assets import asset_types, cmdb, inventory, licences
from frontdesk_assets.inventory import AssetFilter
from frontdesk_assets.lifecycle import RelationKind, Status
from frontdesk_assets.output import asset_row, asset_rows, type_rows
from frontdesk_assets.schemas import ATTRIBUTE_KINDS, CATEGORIES
from frontdesk_assets.transfer_csv import export_csv, import_csv, report_lines

SOURCE = "cli"


@click.group("assets")
def group() -> None:
    """Asset inventory and CMDB: import/export CSV, list, types and attributes, assign and return."""


@group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--type", "type_key", required=True, help="Asset type of every row (laptop, monitor...).")
@click.option("--dry-run", is_flag=True, help="Validate and count; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Write the valid rows even if others are bad.")
@click.pass_obj
def import_command(state: CliState, file: Any, type_key: str, dry_run: bool, skip_invalid: bool) -> None:
    """Import assets of one type from a CSV file (columns: field names and attribute names).

    Every row is checked first; nothing is written unless all rows pass (or --skip-invalid).
    Rows update the asset with the same asset_tag (or serial) and create the others.
    """
    lines = file.readlines()
    progress = click.progressbar(length=max(len(lines) - 1, 0), label="Checking rows", file=sys.stderr)
    with state.desk.action(SYSTEM, source=SOURCE) as uow, progress as bar:
        report = import_csv(uow, type_key, lines, dry_run=dry_run, skip_invalid=skip_invalid, progress=bar.update)
    for line in report_lines(report):
        click.echo(line, err=True)
    verb = "would create" if not report.written else "created"
    summary = f"{report.rows} rows: {verb} {report.created}, updated {report.updated}"
    if report.errors and not report.written:
        raise click.ClickException(
            f"{report.invalid_rows} of {report.rows} rows are invalid; nothing was written"
            + ("" if dry_run else " (fix them or use --skip-invalid)")
        )
    if report.errors:
        summary += f", skipped {report.invalid_rows} invalid rows"
    click.echo(summary + (" (dry run: nothing written)" if dry_run else "") + ".")


@group.command("export")
@click.option("--type", "type_key", required=True, help="Asset type to export.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@click.pass_obj
def export_command(state: CliState, type_key: str, output: Any) -> None:
    """Export every asset of one type as CSV, with the import's columns."""
    with state.desk.reading(SYSTEM) as uow:
        count = export_csv(uow, type_key, output)
    if output is not sys.stdout and getattr(output, "name", "-") != "<stdout>":
        click.echo(f"Exported {count} assets.", err=True)


@group.command("list")
@click.option("--type", "type_key", help="Only this asset type.")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--search", "q", help="Tag, serial, or part of the name or model.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_command(
    state: CliState, type_key: str | None, status: str | None, q: str | None, limit: int, as_json: bool
) -> None:
    """List assets, newest first."""
    with state.desk.reading(SYSTEM) as uow:
        page = inventory.list_assets(uow, AssetFilter(type=type_key, status=status, q=q), limit=limit)
        rows = asset_rows(page.items)
    if as_json:
        echo_json(rows)
        return
    echo_table(rows, ["asset_tag", "type", "name", "status", "assigned_to", "serial"])


@group.command("show")
@click.argument("tag")
@click.pass_obj
def show_command(state: CliState, tag: str) -> None:
    """Show one asset as JSON, with its relations."""
    with state.desk.reading(SYSTEM) as uow:
        asset = inventory.get_asset(uow, tag)
        outgoing, incoming = cmdb.relations_of(uow, asset)
        row = asset_row(asset)
        row["relations"] = [f"{r.kind} {r.target.asset_tag}" for r in outgoing]
        row["related_from"] = [f"{r.source.asset_tag} {r.kind}" for r in incoming]
    echo_json(row)


@group.command("create")
@click.option("--type", "type_key", required=True, help="Asset type key (laptop, monitor...).")
@click.option("--name", required=True, help="Name people know the asset by.")
@click.option("--set", "pairs", multiple=True, metavar="FIELD=VALUE", help="Any field or attr.NAME=VALUE (repeatable).")
@click.pass_obj
def create_command(state: CliState, type_key: str, name: str, pairs: tuple[str, ...]) -> None:
    """Record one asset."""
    data = {"name": name, **_pairs(pairs)}
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset = inventory.create_asset(uow, type_key, data)
        click.echo(f"Created {asset.asset_tag}.")


@group.command("status")
@click.argument("tag")
@click.argument("status", type=click.Choice([s.value for s in Status]))
@click.pass_obj
def status_command(state: CliState, tag: str, status: str) -> None:
    """Move an asset through its lifecycle (ordered, in_stock, deployed, in_repair, retired, disposed)."""
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset = inventory.change_status(uow, tag, status)
        click.echo(f"{asset.asset_tag} is now {asset.status}.")


@group.command("assign")
@click.argument("tag")
@click.argument("email")
@click.option("--until", "expected_return", help="Expected return date (YYYY-MM-DD): a loan.")
@click.pass_obj
def assign_command(state: CliState, tag: str, email: str, expected_return: str | None) -> None:
    """Check an asset out to a person (or transfer it if someone has it)."""
    data = {"person": email, "expected_return": expected_return}
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset = inventory.hand_over(uow, tag, data)
        click.echo(f"{asset.asset_tag} is with {email}" + (f" until {expected_return}." if expected_return else "."))


@group.command("return")
@click.argument("tag")
@click.pass_obj
def return_command(state: CliState, tag: str) -> None:
    """Check an asset back in to stock."""
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset = inventory.check_in(uow, tag)
        click.echo(f"{asset.asset_tag} is back in stock.")


@group.command("seat")
@click.argument("tag")
@click.option("--person", help="E-mail address of the person.")
@click.option("--device", help="Asset tag of the device.")
@click.pass_obj
def seat_command(state: CliState, tag: str, person: str | None, device: str | None) -> None:
    """Give one seat of licence TAG to a person or a device."""
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        licences.assign_seat(uow, tag, {"person": person, "device": device})
        licence = inventory.get_asset(uow, tag)
        click.echo(f"{tag}: {inventory.seats_used(uow, licence)} of {licence.seats_total} seats in use.")


@group.command("relate")
@click.argument("source")
@click.argument("kind", type=click.Choice([k.value for k in RelationKind]))
@click.argument("target")
@click.pass_obj
def relate_command(state: CliState, source: str, kind: str, target: str) -> None:
    """Record that SOURCE <kind> TARGET (e.g. SVC-000001 runs_on SRV-000004)."""
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        cmdb.add_relation(uow, {"source": source, "kind": kind, "target": target})
        click.echo(f"{source} {kind} {target}.")


@group.command("impact")
@click.argument("tag")
@click.option("--depends", is_flag=True, help="What TAG depends on, instead of what it affects.")
@click.option("--depth", type=click.IntRange(1, cmdb.MAX_DEPTH), default=3, show_default=True)
@click.pass_obj
def impact_command(state: CliState, tag: str, depends: bool, depth: int) -> None:
    """What is affected if TAG fails (or, with --depends, what it depends on)."""
    direction = cmdb.Direction.DEPENDENCIES if depends else cmdb.Direction.IMPACT
    with state.desk.reading(SYSTEM) as uow:
        result = cmdb.impact(uow, tag, direction, depth)
        rows = [
            {"depth": n.depth, "asset_tag": n.asset.asset_tag, "name": n.asset.name, "via": n.kind}
            for n in result.nodes
        ]
    echo_table(rows, ["depth", "asset_tag", "name", "via"])


@group.group("type")
def type_group() -> None:
    """Asset types and their attributes."""


@type_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def type_list(state: CliState, as_json: bool) -> None:
    """List asset types with their attributes."""
    with state.desk.reading(SYSTEM) as uow:
        rows = type_rows(asset_types.list_types(uow))
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        row["attributes"] = ", ".join(a["name"] for a in row["attributes"])
    echo_table(rows, ["key", "name", "prefix", "category", "attributes"])


@type_group.command("create")
@click.argument("key")
@click.option("--name", required=True, help="Name shown in lists and forms, e.g. Tablet.")
@click.option("--prefix", required=True, help="Tag prefix, e.g. TAB for TAB-000001.")
@click.option(
    "--category",
    type=click.Choice(CATEGORIES),
    default="hardware",
    show_default=True,
    help="Hardware is checked out to people, licences have seats, services are neither.",
)
@click.pass_obj
def type_create(state: CliState, key: str, name: str, prefix: str, category: str) -> None:
    """Define a new asset type."""
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset_types.create_type(uow, {"key": key, "name": name, "prefix": prefix, "category": category})
        click.echo(f"Created type {key}.")


@type_group.command("add-attribute")
@click.argument("key")
@click.argument("name")
@click.option("--kind", type=click.Choice(ATTRIBUTE_KINDS), required=True, help="What values it holds.")
@click.option("--label", help="Name shown in forms (default: NAME with spaces, capitalized).")
@click.option("--required", is_flag=True, help="Every asset of the type must have a value.")
@click.option("--unique", is_flag=True, help="No two assets of the type may share a value.")
@click.option("--indexed", is_flag=True, help="Keep an index for searching by this attribute.")
@click.option("--choice", "choices", multiple=True, help="An allowed value of a choice attribute (repeatable).")
@click.pass_obj
def type_add_attribute(state: CliState, key: str, name: str, **options: Any) -> None:
    """Add attribute NAME to asset type KEY."""
    data = {"name": name, **{k: v for k, v in options.items() if v not in (None, ())}}
    data["choices"] = list(options["choices"])
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset_types.add_attribute(uow, key, data)
        click.echo(f"Added {name} to {key}.")


@type_group.command("remove-attribute")
@click.argument("key")
@click.argument("name")
@click.pass_obj
def type_remove_attribute(state: CliState, key: str, name: str) -> None:
    """Remove attribute NAME (and its values) from asset type KEY."""
    with state.desk.action(SYSTEM, source=SOURCE) as uow:
        asset_types.remove_attribute(uow, key, name)
        click.echo(f"Removed {name} from {key}.")


def _pairs(pairs: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep:
            raise ValidationError({"set": [f"{pair!r} is not FIELD=VALUE"]})
        if field.startswith("attr."):
            data.setdefault("attributes", {})[field.removeprefix("attr.")] = value
        else:
            data[field] = value
    return data
