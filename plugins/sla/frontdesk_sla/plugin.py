"""Service level agreements: business-hours calendars, policies, per-ticket clocks, warnings and breaches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pluggy

from frontdesk import hookimpl
from frontdesk.automation import Field
from frontdesk.desk import Desk
from frontdesk.jobs import Job, crontab
from frontdesk.models import Event, Ticket, User
from frontdesk.permissions import SYSTEM, Permission
from frontdesk.plugins import ListColumn, NavItem
from frontdesk_sla import conditions, display, hookspecs, jobs, services, tracking

TITLE = "SLA"
OPTIONAL = ["webui"]


@hookimpl
def frontdesk_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def frontdesk_register_migrations() -> Path:
    return Path(__file__).parent / "migrations" / "versions"


@hookimpl
def frontdesk_register_permissions() -> list[Permission]:
    return [
        Permission(services.MANAGE, "Create and change SLA calendars and policies"),
        Permission(services.VIEW, "See SLA clocks, calendars, policies and reports", frozenset({"agent"})),
    ]


@hookimpl
def frontdesk_register_jobs() -> list[Job]:
    return [
        Job("sla.scan", jobs.scan, schedule=crontab(minute="*"), attempts=1),
        Job("sla.retime", jobs.retime),
        Job("sla.recompute_open", jobs.recompute_open),
    ]


@hookimpl
def frontdesk_automation_fields() -> list[Field]:
    return conditions.FIELDS


@hookimpl(trylast=True)
def frontdesk_sla_policy_for(ticket: Ticket, policies: list[Any]) -> Any:
    return services.first_matching(policies, ticket)


def _recompute(ticket: Ticket | None, desk: Desk) -> None:
    if ticket is not None:
        with desk.action(SYSTEM, source="sla") as uow:
            tracking.recompute_ticket(uow, ticket.id)


@hookimpl
def frontdesk_ticket_created(event: Event, ticket: Ticket | None, desk: Desk) -> None:
    _recompute(ticket, desk)


@hookimpl
def frontdesk_ticket_updated(event: Event, ticket: Ticket | None, desk: Desk) -> None:
    _recompute(ticket, desk)


@hookimpl
def frontdesk_ticket_commented(event: Event, ticket: Ticket | None, desk: Desk) -> None:
    _recompute(ticket, desk)


@hookimpl
def frontdesk_ticket_fields(ticket: Ticket, user: User | None) -> dict[str, Any] | None:
    return display.ticket_fields(ticket, user)


@hookimpl
def frontdesk_slot_ticket_sidebar(ticket: Ticket, user: User) -> Any:
    return display.sidebar(ticket, user)


@hookimpl
def frontdesk_slot_dashboard_widgets(user: User) -> Any:
    return display.dashboard_widget(user)


@hookimpl
def frontdesk_ticket_list_columns(user: User) -> list[ListColumn]:
    return display.list_columns(user)


@hookimpl
def frontdesk_register_commands(cli: click.Group) -> None:
    from frontdesk_sla.cli import sla

    cli.add_command(sla)


@hookimpl
def frontdesk_register_blueprints() -> list[Any]:
    from frontdesk_sla import api, views

    return [views.bp, api.blp]


@hookimpl
def frontdesk_nav_items(user: User | None) -> list[NavItem]:
    return [NavItem("SLA", "sla.index", weight=70, permission=services.VIEW, staff_only=True)]
