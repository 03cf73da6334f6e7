"""Email channel: mail in (IMAP, MTA pipe, import, SMTP, webhook) becomes tickets; replies go out as mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pluggy
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
    # Imported for their routes, which join the two blueprints.
    from frontdesk_email import api_admin, views_admin, views_messages, webhook  # noqa: F401
    from frontdesk_email.blueprints import api, pages

    return [pages, api]


@hookimpl
def frontdesk_add_hookspecs(pm: pluggy.PluginManager) -> None:
    from frontdesk_email import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl(trylast=True)
def frontdesk_email_classify(message: Any, own_addresses: Any) -> Any:
    from frontdesk_email.classify import classify

    return classify(message, own_addresses)


@hookimpl(trylast=True)
def frontdesk_email_route(uow: Any, message: Any, mailbox: Any) -> str | None:
    from frontdesk.models import Group

    group = uow.session.get(Group, mailbox.group_id) if mailbox is not None and mailbox.group_id else None
    return group.name if group is not None else None


@hookimpl
def frontdesk_register_jobs() -> list[Any]:
    from frontdesk_email.jobs import JOBS

    return JOBS


@hookimpl
def frontdesk_notification_channels() -> list[Any]:
    from frontdesk.notifications import NotificationChannel
    from frontdesk_email.outbound import deliver_notice

    return [NotificationChannel(name="email", label="Email", deliver=deliver_notice)]


@hookimpl
def frontdesk_ticket_commented(event: Any, desk: Any) -> None:
    """An agent's public reply goes out as mail to the requester and the CCs (never a mail that came in)."""
    if not (event.payload.get("public") and event.payload.get("by_staff")):
        return
    from frontdesk.permissions import SYSTEM
    from frontdesk_email.outbound import queue_reply

    with desk.action(SYSTEM, source="email") as uow:
        queue_reply(uow, event.payload["comment_id"])


@hookimpl
def frontdesk_nav_items(user: Any) -> list[Any]:
    from frontdesk.plugins import NavItem

    return [NavItem("Email", "email.mailboxes", weight=80, permission="email.manage")]


@hookimpl
def frontdesk_slot_ticket_sidebar(ticket: Any, user: Any) -> Any:
    from frontdesk_email.views_admin import mail_log_panel

    return mail_log_panel(ticket, user)


@hookimpl
def frontdesk_slot_ticket_comment(ticket: Any, comment: Any, user: Any) -> Any:
    from frontdesk_email.views_messages import comment_slot

    return comment_slot(ticket, comment, user)
