"""Email channel: mail in (IMAP, MTA pipe, import, SMTP, webhook) becomes tickets; replies go out as mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from marshmallow import Schema

from frontdesk import hookimpl
from frontdesk.permissions import Permission
from frontdesk_email import models  # noqa: F401 (the plugin's tables, for the ORM and migrations)
from frontdesk_email.settings import EmailSettings

TITLE = "Email"


@hookimpl
def frontdesk_register_migrations() -> Path:
    return Path(__file__).parent / "migrations" / "versions"


@hookimpl
def frontdesk_register_settings() -> type[Schema]:
    return EmailSettings


@hookimpl
def frontdesk_register_permissions() -> list[Permission]:
    return [Permission("email.manage", "Manage mailboxes, the review queue and failed mail", roles=frozenset())]


@hookimpl
def frontdesk_register_commands(cli: click.Group) -> None:
    from frontdesk_email.cli import group

    cli.add_command(group)


@hookimpl
def frontdesk_register_blueprints() -> list[Any]:
    from frontdesk_email.blueprints import api, pages

    return [pages, api]
