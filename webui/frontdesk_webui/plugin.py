"""The web layer, registered with the core through the plugin contract like any other plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from marshmallow import Schema

from frontdesk import hookimpl
from frontdesk.plugins import NavItem

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.models import User

TITLE = "Web interface"
DESCRIPTION = "Agent workspace, requester portal, admin console and REST API."
ESSENTIAL = True


@hookimpl
def frontdesk_make_wsgi_app(desk: Desk) -> Any:
    from frontdesk_webui.app import create_app

    return create_app(desk)


@hookimpl
def frontdesk_register_settings() -> type[Schema]:
    from frontdesk_webui.desk_settings import DeskSettings

    return DeskSettings


@hookimpl
def frontdesk_register_commands(cli: click.Group) -> None:
    from frontdesk_webui.serve import serve

    cli.add_command(serve)


@hookimpl
def frontdesk_nav_items(user: User | None) -> list[NavItem]:
    items = [
        NavItem(label="Tickets", endpoint="agent.index", weight=0, staff_only=True),
        NavItem(label="Dashboard", endpoint="agent.dashboard", weight=5, staff_only=True),
        NavItem(label="Admin", endpoint="admin.index", weight=80, permission="people.manage"),
        NavItem(label="API", endpoint="core.api_docs", weight=90, staff_only=True),
        NavItem(label="Account", endpoint="core.account", weight=95),
    ]
    if user is not None and not user.is_staff:
        items.append(NavItem(label="My requests", endpoint="portal.index", weight=0))
    return items
