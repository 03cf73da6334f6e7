"""Greets people from the command line, on a page and in the background."""

import time
from datetime import timedelta
from pathlib import Path

import click
from flask import Blueprint, render_template
from marshmallow import Schema, fields

from frontdesk import hookimpl
from frontdesk.cli import pass_desk
from frontdesk.jobs import Job
from frontdesk.permissions import SYSTEM, Permission
from frontdesk.plugins import NavItem
from frontdesk_hello import services

TITLE = "Hello"

bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")


class HelloSettings(Schema):
    greeting = fields.String(load_default="Hello")
    shout = fields.Boolean(load_default=False)


@bp.route("/")
def index() -> str:
    from frontdesk_webui.context import desk

    with desk().reading(SYSTEM) as uow:
        return render_template("hello/index.html", count=services.count(uow))


@click.group("hello")
def cli_group() -> None:
    """Greet people."""


@cli_group.command()
@click.argument("name")
@pass_desk
def greet(desk, name: str) -> None:  # type: ignore[no-untyped-def]
    """Greet NAME and remember it."""
    with desk.action(SYSTEM, source="cli") as uow:
        click.echo(services.greet(uow, name))


def greet_later(desk, name: str, seconds: float = 0) -> None:  # type: ignore[no-untyped-def]
    """The background job: wait a little (a slow mail server, say), then greet."""
    time.sleep(seconds)
    with desk.action(SYSTEM, source="job") as uow:
        services.greet(uow, name)


@hookimpl
def frontdesk_register_jobs() -> list[Job]:
    return [
        Job("hello.greet", greet_later),
        Job("hello.greet_slowly", greet_later, lease=timedelta(seconds=2)),
    ]


@hookimpl
def frontdesk_register_migrations() -> Path:
    return Path(__file__).parent / "migrations" / "versions"


@hookimpl
def frontdesk_register_settings() -> type[Schema]:
    return HelloSettings


@hookimpl
def frontdesk_register_permissions() -> list[Permission]:
    return [Permission("hello.greet", "Greet people", roles=frozenset({"agent"}))]


@hookimpl
def frontdesk_register_commands(cli: click.Group) -> None:
    cli.add_command(cli_group)


@hookimpl
def frontdesk_register_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def frontdesk_nav_items(user: object) -> list[NavItem]:
    return [NavItem("Hello", "hello.index", weight=50)]
