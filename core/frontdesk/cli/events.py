"""``frontdesk events``: the outbox of committed events and the plugins that failed to handle them."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.models import Event, EventFailure, EventState


@click.group()
def events() -> None:
    """Inspect and deliver events (ticket created, updated, ...) that plugins react to."""


@events.command()
@click.pass_obj
def status(state: CliState) -> None:
    """Count events by delivery state."""
    with state.desk.db.reading() as session:
        counts = dict(session.execute(select(Event.state, func.count()).group_by(Event.state)).all())
    for name in EventState:
        click.echo(f"{name.value:10} {counts.get(name.value, 0)}")


@events.command()
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 100_000), help="Events to try.")
@click.pass_obj
def dispatch(state: CliState, limit: int) -> None:
    """Deliver pending events now: catch-up after a crash, or retries that are due."""
    report = state.desk.dispatcher.dispatch_pending(limit=limit)
    click.echo(
        f"Delivered {len(report.delivered)}, retrying {len(report.retrying)}, failed {len(report.failed)}, "
        f"waiting {len(report.waiting)}."
    )


@events.command()
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000), help="Newest N failures.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def failed(state: CliState, limit: int, as_json: bool) -> None:
    """Events a plugin gave up on, with the plugin and its last error."""
    with state.desk.db.reading() as session:
        rows = [
            {
                "event": event.id,
                "name": event.name,
                "ticket": event.ticket_id,
                "plugin": failure.plugin,
                "attempts": failure.attempts,
                "error": failure.error,
            }
            for event, failure in session.execute(
                select(Event, EventFailure)
                .join(EventFailure, EventFailure.event_id == Event.id)
                .where(Event.state == EventState.FAILED, EventFailure.given_up.is_(True))
                .order_by(Event.id.desc())
                .limit(limit)
            )
        ]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_table(rows, ["event", "name", "ticket", "plugin", "attempts", "error"])
    else:
        click.echo("No failed events.")
