"""``frontdesk automation``: rules as code (export/import YAML), time rules on demand, dry runs and the log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO

import click

from frontdesk.automation.config_file import export_yaml, import_yaml
from frontdesk.automation.time_rules import run_time_rules
from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation as rules


@click.group()
def automation() -> None:
    """Automation rules: list, export/import as YAML, run time rules, dry-run, read a ticket's log."""


@automation.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(state: CliState, as_json: bool) -> None:
    """Triggers and time rules in evaluation order."""
    with state.desk.reading(SYSTEM) as uow:
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "position": r.position,
                "enabled": "yes" if r.enabled else "no",
                "name": r.name,
                "events": ",".join(r.events),
            }
            for r in rules.list_rules(uow)
        ]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_table(rows, ["id", "kind", "position", "enabled", "name", "events"])
    else:
        click.echo("No rules yet: `frontdesk automation import FILE` or the admin console adds some.")


@automation.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True), default="-")
@click.pass_obj
def export(state: CliState, path: str) -> None:
    """Write triggers, time rules and shared macros as YAML to PATH (default: standard output)."""
    with state.desk.reading(SYSTEM) as uow:
        text = export_yaml(uow)
    if path == "-":
        click.echo(text, nl=False)
    else:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        click.echo(f"Wrote {path}.", err=True)


@automation.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Also delete rules and shared macros the file does not name.")
@click.pass_obj
def import_(state: CliState, source: TextIO, replace: bool) -> None:
    """Create or update rules and shared macros from a YAML file (SOURCE, or - for standard input).

    Everything is validated first: one invalid rule changes nothing and the error names it.
    """
    text = source.read()
    with state.desk.action(SYSTEM, source="cli") as uow:
        counts = import_yaml(uow, text, replace=replace)
    click.echo(f"Created {counts['created']}, updated {counts['updated']}, deleted {counts['deleted']}.")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date and time like 2026-03-29T10:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@automation.command()
@click.option("--now", "now_text", metavar="ISO-TIME", help="Evaluate as if it were this time (UTC unless given).")
@click.pass_obj
def run(state: CliState, now_text: str | None) -> None:
    """Evaluate the time rules once, now or at --now (catch-up, testing); each acts once per ticket and episode."""
    report = run_time_rules(state.desk, _moment(now_text))
    if not report.checked:
        click.echo("No enabled time rules.")
    for name, checked in report.checked.items():
        acted = report.acted[name]
        shown = ", ".join(f"#{n}" for n in acted[:20]) + (" ..." if len(acted) > 20 else "")
        click.echo(f"{name}: checked {checked}, acted on {len(acted)}{': ' + shown if acted else ''}")
        for error in report.errors.get(name, []):
            click.echo(f"  error {error}", err=True)


@automation.command("dry-run")
@click.argument("name")
@click.pass_obj
def dry_run(state: CliState, name: str) -> None:
    """Which open tickets rule NAME's conditions hold for right now (nothing is changed)."""
    with state.desk.reading(SYSTEM) as uow:
        rule = rules.rule_named(uow, name)
        if rule is None:
            raise click.ClickException(f"no rule named {name!r}")
        found = rules.dry_run(uow, {**rules.rule_data(rule), "kind": rule.kind})
        lines = [f"#{t.number}  {t.subject}" for t in found]
    click.echo("\n".join(lines) if lines else "No open ticket matches now.")


@automation.command()
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def log(state: CliState, number: int, as_json: bool) -> None:
    """What automation did on ticket NUMBER, and why each rule matched or not."""
    with state.desk.reading(SYSTEM) as uow:
        entries = rules.automation_log(uow, number)
    if as_json:
        echo_json(entries)
        return
    if not entries:
        click.echo("No automation ran on this ticket.")
    for entry in entries:
        click.echo(f"{entry['at'].isoformat(timespec='seconds')}  {entry['trigger']}")
        for line in entry["rules"]:
            mark = "✓" if line["matched"] else "·"
            did = f" → {'; '.join(line['done'])}" if line["done"] else ""
            failed = f" (failed: {line['error']})" if line["error"] else ""
            click.echo(f"  {mark} {line['rule']}: {line['why']}{did}{failed}")
