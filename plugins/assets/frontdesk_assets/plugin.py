"""Asset management and CMDB: inventory, lifecycle, assignment, licences, relations, impact, ticket links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pluggy
from marshmallow import Schema, fields, validate

from frontdesk import hookimpl
from frontdesk.jobs import Job, crontab
from frontdesk.permissions import Permission
from frontdesk.plugins import NavItem
from frontdesk_assets import alerts, events

TITLE = "Assets"
REQUIRES = ["webui"]


class AssetsSettings(Schema):
    """The plugin's settings."""

    warranty_days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


@hookimpl
def frontdesk_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(events)


@hookimpl
def frontdesk_register_migrations() -> Path:
    return Path(__file__).parent / "migrations" / "versions"


@hookimpl
def frontdesk_register_settings() -> type[Schema]:
    return AssetsSettings


@hookimpl
def frontdesk_register_permissions() -> list[Permission]:
    return [
        Permission("assets.view", "See the asset inventory, relations and impact", frozenset({"agent"})),
        Permission("assets.manage", "Create and change assets, asset types, licences and relations"),
    ]


@hookimpl
def frontdesk_register_jobs() -> list[Job]:
    return [Job("assets.warnings", alerts.scan, schedule=crontab(minute="7"))]


@hookimpl
def frontdesk_register_commands(cli: click.Group) -> None:
    from frontdesk_assets.cli import group

    cli.add_command(group)


@hookimpl
def frontdesk_register_blueprints() -> list[Any]:
    from frontdesk_assets import api, views

    return [views.bp, api.blp]


@hookimpl
def frontdesk_nav_items(user: Any) -> list[NavItem]:
    return [NavItem("Assets", "assets.index", weight=40, permission="assets.view")]


@hookimpl
def frontdesk_slot_ticket_sidebar(ticket: Any, user: Any) -> Any:
    from frontdesk_assets import slots

    return slots.ticket_sidebar(ticket, user)


@hookimpl
def frontdesk_slot_portal_home(user: Any) -> Any:
    from frontdesk_assets import slots

    return slots.portal_home(user)
