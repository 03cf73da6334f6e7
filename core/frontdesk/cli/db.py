"""``frontdesk db``: schema migrations of the core and of every enabled plugin."""

from __future__ import annotations

import click

from frontdesk import migrate
from frontdesk.cli.base import echo_table, pass_desk
from frontdesk.desk import Desk

PLUGIN_OPTION = click.option("--plugin", "name", metavar="NAME", help="Only this plugin's migrations (core: 'core').")


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database schema."""


@db.command()
@PLUGIN_OPTION
@pass_desk
def upgrade(desk: Desk, name: str | None) -> None:
    """Upgrade the core, then every enabled plugin (or just --plugin NAME)."""
    if name:
        migrate.upgrade(desk, migrate.lineage(desk, name))
        click.echo(f"Upgraded {name}.")
        return
    changed = migrate.upgrade_all(desk)
    click.echo(f"Upgraded: {', '.join(changed)}." if changed else "Everything is up to date.")


@db.command()
@pass_desk
def current(desk: Desk) -> None:
    """Show each lineage's revision in the database and whether it is the newest."""
    rows = []
    for lineage in migrate.lineages(desk):
        at, head = migrate.current(desk, lineage), migrate.heads(lineage)
        rows.append(
            {
                "lineage": lineage.name,
                "database": ", ".join(at) or "(empty)",
                "newest": ", ".join(head),
                "state": "up to date" if set(at) == set(head) else "needs `frontdesk db upgrade`",
            }
        )
    echo_table(rows, ["lineage", "database", "newest", "state"])


@db.command()
@PLUGIN_OPTION
@pass_desk
def history(desk: Desk, name: str | None) -> None:
    """List the revisions of the core (or of --plugin NAME), newest first."""
    for script in migrate.history(migrate.lineage(desk, name or migrate.CORE)):
        click.echo(f"{script.revision}  {script.doc}")


@db.command()
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--autogenerate", is_flag=True, help="Fill the revision from the difference between models and database.")
@PLUGIN_OPTION
@pass_desk
def revision(desk: Desk, message: str, autogenerate: bool, name: str | None) -> None:
    """Write a new revision file (for developers of the core and of plugins)."""
    path = migrate.revision(desk, migrate.lineage(desk, name or migrate.CORE), message, autogenerate=autogenerate)
    click.echo(f"Wrote {path}.")


@db.command()
@click.argument("name")
@click.argument("revision", default="base")
@click.confirmation_option(prompt="This removes the plugin's tables and data down to REVISION. Continue?")
@pass_desk
def downgrade(desk: Desk, name: str, revision: str) -> None:
    """Revert plugin NAME's schema to REVISION (default: base, dropping all its tables)."""
    if name == migrate.CORE:
        raise click.UsageError("the core schema cannot be downgraded from the CLI")
    migrate.downgrade(desk, migrate.lineage(desk, name), revision)
    click.echo(f"Downgraded {name} to {revision}.")
