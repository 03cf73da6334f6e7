"""``frontdesk sla``: calendars, policies, due-time checks, ticket clocks and YAML export/import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from frontdesk.cli import pass_desk
from frontdesk.cli.base import echo_json, echo_table
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import ValidationError
from frontdesk.permissions import SYSTEM
from frontdesk.services.tickets import get_ticket
from frontdesk_sla import jobs, services, tracking, transfer
from frontdesk_sla.display import clock_data
from frontdesk_sla.models import Metric


@click.group("sla")
def sla() -> None:
    """Service level agreements: calendars, policies and ticket clocks."""


# --- Calendars -----------------------------------------------------------------------------------


@sla.group("calendar")
def calendar() -> None:
    """Business-hours calendars."""


def _exceptions(values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        day, _, hours = value.strip().partition(" ")
        found[day] = hours.strip() or "closed"
    return found


def _calendar_options(f: Any) -> Any:
    options = [
        click.option("--timezone", required=True, help="IANA time zone, e.g. Europe/Berlin."),
        click.option(
            "--hours", "hours", multiple=True, required=True, help='e.g. "mon-fri 08:00-12:00,13:00-17:00" or "24x7".'
        ),
        click.option(
            "--holidays", "holidays", multiple=True, help="Public holidays by country[-subdivision], e.g. DE-BY."
        ),
        click.option("--closed", "closed", multiple=True, help="A date closed all day (YYYY-MM-DD)."),
        click.option(
            "--exception", "exceptions", multiple=True, help='A date with its own hours: "2026-12-24 09:00-12:00".'
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _calendar_values(name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "timezone": values["timezone"],
        "hours": list(values["hours"]),
        "holidays": list(values["holidays"]),
        "closed": list(values["closed"]),
        "exceptions": _exceptions(values["exceptions"]),
    }


@calendar.command("add")
@click.argument("name")
@_calendar_options
@pass_desk
def calendar_add(desk: Desk, name: str, **values: Any) -> None:
    """Create calendar NAME."""
    with desk.action(SYSTEM, source="cli") as uow:
        services.save_calendar(uow, _calendar_values(name, values))
    click.echo(f"Calendar {name} created.")


@calendar.command("edit")
@click.argument("name")
@_calendar_options
@pass_desk
def calendar_edit(desk: Desk, name: str, **values: Any) -> None:
    """Replace the definition of calendar NAME (settled clocks keep their outcomes)."""
    with desk.action(SYSTEM, source="cli") as uow:
        services.save_calendar(uow, _calendar_values(name, values), name)
    click.echo(f"Calendar {name} changed; running clocks are re-timed.")


@calendar.command("delete")
@click.argument("name")
@pass_desk
def calendar_delete(desk: Desk, name: str) -> None:
    """Delete calendar NAME (no policy may use it)."""
    with desk.action(SYSTEM, source="cli") as uow:
        services.delete_calendar(uow, name)
    click.echo(f"Calendar {name} deleted.")


@calendar.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_desk
def calendar_list(desk: Desk, as_json: bool) -> None:
    """List calendars."""
    with desk.reading(SYSTEM) as uow:
        rows = [dict(transfer.calendar_data(c), version=c.version) for c in services.list_calendars(uow)]
    if as_json:
        echo_json(rows)
        return
    table = [
        dict(row, hours="; ".join(row["hours"]), holidays=",".join(row["holidays"]), closed=len(row["closed"]))
        for row in rows
    ]
    echo_table(table, ["name", "timezone", "hours", "holidays", "closed", "version"])


# --- Policies ------------------------------------------------------------------------------------


@sla.group("policy")
def policy() -> None:
    """SLA policies: conditions and targets, tried in order."""


def _target(text: str, warn: int) -> dict[str, Any]:
    """``urgent:first_response:60`` (business minutes) or ``low:resolution:4320:calendar``."""
    parts = text.split(":")
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("business", "calendar")):
        raise ValidationError({"target": [f"{text!r}: use PRIORITY:METRIC:MINUTES[:business|calendar]"]})
    try:
        minutes = float(parts[2])
    except ValueError:
        raise ValidationError({"target": [f"{text!r}: {parts[2]!r} is not a number of minutes"]}) from None
    business = len(parts) == 3 or parts[3] == "business"
    return {"priority": parts[0], "metric": parts[1], "minutes": minutes, "business": business, "warn_percent": warn}


@policy.command("add")
@click.argument("name")
@click.option("--calendar", "calendar_name", help="Calendar of business-minute targets.")
@click.option(
    "--target",
    "targets",
    multiple=True,
    required=True,
    help="PRIORITY:METRIC:MINUTES[:business|calendar]; metrics: " + ", ".join(m.value for m in Metric),
)
@click.option("--warn", default=80, show_default=True, help="Warn at this percentage of each target.")
@click.option("--position", type=int, help="Order among policies (lower is tried first); default last.")
@click.option("--priority", "priority", multiple=True, help="Match these priorities.")
@click.option("--type", "type_", multiple=True, help="Match these ticket types.")
@click.option("--group", "group", multiple=True, help="Match these groups.")
@click.option("--organization", "organization", multiple=True, help="Match these organizations.")
@click.option("--tag", "tags", multiple=True, help="Match tickets with any of these tags.")
@click.option("--channel", "channel", multiple=True, help="Match these channels (web, email, api...).")
@click.option(
    "--pause-on", "pause_on", multiple=True, help="Status category or status that pauses the clocks (default: pending)."
)
@click.option("--no-pause", is_flag=True, help="Never pause the clocks.")
@click.option("--inactive", is_flag=True, help="Create the policy switched off.")
@pass_desk
def policy_add(
    desk: Desk,
    name: str,
    calendar_name: str | None,
    targets: tuple[str, ...],
    warn: int,
    position: int | None,
    type_: tuple[str, ...],
    pause_on: tuple[str, ...],
    no_pause: bool,
    inactive: bool,
    **conditions: tuple[str, ...],
) -> None:
    """Create policy NAME."""
    conditions["type"] = type_
    data = {
        "name": name,
        "calendar": calendar_name,
        "targets": [_target(text, warn) for text in targets],
        "position": position,
        "active": not inactive,
        "conditions": {key: list(values) for key, values in conditions.items() if values},
        "pause_on": [] if no_pause else list(pause_on or ["pending"]),
    }
    with desk.action(SYSTEM, source="cli") as uow:
        services.save_policy(uow, data)
    click.echo(f"Policy {name} created.")


@policy.command("delete")
@click.argument("name")
@pass_desk
def policy_delete(desk: Desk, name: str) -> None:
    """Delete policy NAME; the clocks it started keep their outcomes."""
    with desk.action(SYSTEM, source="cli") as uow:
        services.delete_policy(uow, name)
    click.echo(f"Policy {name} deleted.")


@policy.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_desk
def policy_list(desk: Desk, as_json: bool) -> None:
    """List policies in the order they are tried."""
    with desk.reading(SYSTEM) as uow:
        rows = [transfer.policy_data(p) for p in services.list_policies(uow)]
    if as_json:
        echo_json(rows)
        return
    table = [
        dict(
            row,
            conditions="; ".join(f"{k}={','.join(v)}" for k, v in row["conditions"].items()) or "(all tickets)",
            targets=len(row["targets"]),
            pause_on=",".join(row["pause_on"]),
        )
        for row in rows
    ]
    echo_table(table, ["position", "name", "active", "calendar", "conditions", "targets", "pause_on"])


# --- Checking and showing ------------------------------------------------------------------------


@sla.command("due")
@click.option("--calendar", "calendar_name", required=True, help="Calendar name.")
@click.option("--start", required=True, help="ISO 8601 instant with offset, e.g. 2026-03-27T16:30:00+01:00.")
@click.option("--minutes", type=float, required=True, help="Business minutes to add.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_desk
def due(desk: Desk, calendar_name: str, start: str, minutes: float, as_json: bool) -> None:
    """Print when MINUTES business minutes after START end on a calendar."""
    try:
        begin = datetime.fromisoformat(start)
    except ValueError:
        raise ValidationError({"start": [f"{start!r} is not an ISO 8601 date and time"]}) from None
    if begin.tzinfo is None:
        raise ValidationError({"start": ["give a UTC offset, e.g. +01:00 or Z"]})
    if minutes < 0:
        raise ValidationError({"minutes": ["must not be negative"]})
    with desk.reading(SYSTEM) as uow:
        found = services.get_calendar(uow, calendar_name)
        arithmetic = services.business_time(found)
    end = arithmetic.add(begin, minutes)
    local = end.astimezone(arithmetic.tz)
    if as_json:
        echo_json(
            {
                "calendar": calendar_name,
                "start": begin.isoformat(),
                "minutes": minutes,
                "due": end.isoformat(),
                "due_local": local.isoformat(),
            }
        )
    else:
        click.echo(local.isoformat())


@sla.command("status")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_desk
def status(desk: Desk, number: int, as_json: bool) -> None:
    """Print every clock of ticket NUMBER: due time, state, elapsed business minutes and pauses."""
    now = utcnow()
    with desk.reading(SYSTEM) as uow:
        ticket = get_ticket(uow, number)
        rows = tracking.ticket_clocks(uow.session, [ticket.id])[ticket.id]
        clocks = [clock_data(row, now) for row in rows]
    if as_json:
        echo_json({"ticket": number, "clocks": clocks})
        return
    if not clocks:
        click.echo(f"Ticket #{number} has no SLA clocks (no policy applies).")
        return
    table = [
        dict(
            clock,
            clock=f"{clock['metric']} #{clock['episode']}",
            target=f"{clock['target_minutes']:g} {'business' if clock['business'] else 'calendar'} min",
            elapsed=f"{clock['elapsed_minutes']:g}",
            paused=f"{clock['paused_minutes']:g} ({len(clock['pauses'])}x)",
            done=clock["fulfilled_at"],
        )
        for clock in clocks
    ]
    echo_table(table, ["clock", "state", "target", "due_at", "elapsed", "paused", "done"])


@sla.command("recompute")
@click.argument("numbers", type=int, nargs=-1)
@click.option("--open", "all_open", is_flag=True, help="Every ticket not solved or closed (e.g. after installing).")
@pass_desk
def recompute(desk: Desk, numbers: tuple[int, ...], all_open: bool) -> None:
    """Recompute the clocks of tickets NUMBERS (or --open) from their history."""
    if not numbers and not all_open:
        raise ValidationError({"numbers": ["name tickets or pass --open"]})
    for number in numbers:
        with desk.action(SYSTEM, source="cli") as uow:
            tracking.recompute_ticket(uow, get_ticket(uow, number).id)
    count = jobs.recompute_open(desk) if all_open else len(numbers)
    click.echo(f"Recomputed {count} ticket(s).")


@sla.command("scan")
@pass_desk
def scan(desk: Desk) -> None:
    """Send the warnings and breaches that came due now (the periodic job does this every minute)."""
    warnings, breaches = jobs.scan(desk, source="cli")
    click.echo(f"{warnings} warning(s), {breaches} breach(es) sent.")


# --- YAML ----------------------------------------------------------------------------------------


@sla.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_desk
def export(desk: Desk, file: Path) -> None:
    """Write every calendar and policy to FILE (YAML; '-' for standard output)."""
    with desk.reading(SYSTEM) as uow:
        text = transfer.export_yaml(uow)
    if str(file) == "-":
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {file}.")


@sla.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@pass_desk
def import_(desk: Desk, file: Any) -> None:
    """Create or replace calendars and policies from FILE (YAML): all of them or, on any error, none."""
    with desk.action(SYSTEM, source="cli") as uow:
        calendars, policies = transfer.import_yaml(uow, file.read())
    click.echo(f"Imported {calendars} calendar(s) and {policies} polic{'y' if policies == 1 else 'ies'}.")
