"""``frontdesk plugins``: what is installed, enabled or failed, and switching plugins on and off."""

from __future__ import annotations

import json

import click

from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.permissions import SYSTEM
from frontdesk.services import plugins as plugin_service

RESTART = "Restart `frontdesk serve` (and workers) for running processes to pick this up."


@click.group()
def plugins() -> None:
    """List, enable, disable and configure plugins. Disabling never deletes a plugin's data."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(state: CliState, as_json: bool) -> None:
    """Every installed plugin: version, status (enabled, disabled, failed) and the error of failed ones."""
    infos = [info.as_dict() for info in sorted(state.desk.plugins.infos.values(), key=lambda i: i.name)]
    if as_json:
        echo_json(infos)
        return
    if not infos:
        click.echo("No plugins are installed.")
        return
    echo_table(infos, ["name", "version", "status", "title", "error"])


@plugins.command()
@click.argument("name")
@click.pass_obj
def enable(state: CliState, name: str) -> None:
    """Enable plugin NAME and create or upgrade its tables."""
    info = plugin_service.enable_plugin(state.desk, SYSTEM, name)
    click.echo(f"Enabled {info.name} {info.version}. {RESTART}")


@plugins.command()
@click.argument("name")
@click.pass_obj
def disable(state: CliState, name: str) -> None:
    """Disable plugin NAME; its data stays in the database for when it is enabled again."""
    info = plugin_service.disable_plugin(state.desk, SYSTEM, name)
    click.echo(f"Disabled {info.name}. {RESTART}")


@plugins.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def info(state: CliState, name: str, as_json: bool) -> None:
    """Show plugin NAME: metadata, status, permissions and settings."""
    desk = state.desk
    data = desk.plugins.get(name).as_dict()
    if data["status"] == "enabled":
        with desk.reading(SYSTEM) as uow:
            data["settings"] = plugin_service.get_settings(uow, name)
        data["permissions"] = [p.name for p in desk.permissions if p.name.startswith(f"{name}.")]
    if as_json:
        echo_json(data)
        return
    for key in ("name", "title", "version", "distribution", "status", "description", "requires", "optional", "error"):
        value = data[key]
        if value not in (None, "", []):
            click.echo(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    for key, value in data.get("settings", {}).items():
        click.echo(f"setting {key}: {json.dumps(value, default=str)}")
    for permission in data.get("permissions", []):
        click.echo(f"permission: {permission}")


@plugins.command("set")
@click.argument("name")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_(state: CliState, name: str, key: str, value: str) -> None:
    """Change setting KEY of plugin NAME to VALUE (checked against the plugin's settings schema)."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        stored = plugin_service.set_setting(uow, name, key, value)
    click.echo(f"{name}.{key} = {json.dumps(stored, default=str)}")
