"""``frontdesk init`` and ``frontdesk config``: setting a desk up and showing how it is configured."""

from __future__ import annotations

import sys
from dataclasses import replace

import click
from sqlalchemy import select

from frontdesk import migrate
from frontdesk.automation.config_file import install_defaults
from frontdesk.cli.base import CliState, echo_json
from frontdesk.config import ensure_secret_key
from frontdesk.models import Role, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation, people


@click.command()
@click.option("--admin-email", help="E-mail of the first admin (asked for when missing and interactive).")
@click.option("--admin-name", default="Administrator", show_default=True, help="Display name of the first admin.")
@click.option("--admin-password", help="Password of the first admin (asked for when missing and interactive).")
@click.pass_obj
def init(state: CliState, admin_email: str | None, admin_name: str, admin_password: str | None) -> None:
    """Create or upgrade the database, generate a secret key, and create the first admin.

    Safe to run again: it upgrades what is outdated and creates only what is missing.
    """
    key, created = ensure_secret_key(state.config.instance_path)
    if created:
        click.echo(f"Generated a secret key in {state.config.instance_path}.")
    if state.config.secret_key is None:
        state.config = replace(state.config, secret_key=key)
    desk = state.desk
    changed = migrate.upgrade_all(desk)
    click.echo(f"Database upgraded: {', '.join(changed)}." if changed else "Database is up to date.")
    with desk.reading(SYSTEM) as uow:
        has_admin = uow.session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None
    if has_admin:
        click.echo("An admin exists already.")
        return
    if not admin_email or not admin_password:
        if not sys.stdin.isatty():
            click.echo("No admin yet: run `frontdesk init --admin-email E --admin-password P`.")
            return
        admin_email = admin_email or click.prompt("Admin e-mail")
        admin_password = admin_password or click.prompt("Admin password", hide_input=True, confirmation_prompt=True)
    with desk.action(SYSTEM, source="cli") as uow:
        admin = people.create_user(
            uow, {"email": admin_email, "name": admin_name, "password": admin_password, "role": Role.ADMIN.value}
        )
        installed = install_defaults(uow) if not automation.list_rules(uow) else None
    click.echo(f"Created admin {admin.email}.")
    if installed:
        click.echo(f"Added {installed['created']} default automation rules (see `frontdesk automation list`).")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config(state: CliState, as_json: bool) -> None:
    """Show the effective configuration (passwords and keys masked)."""
    shown = state.config.masked()
    if as_json:
        echo_json(shown)
        return
    width = max(len(key) for key in shown)
    for key, value in shown.items():
        click.echo(f"{key.ljust(width)}  {value}")
