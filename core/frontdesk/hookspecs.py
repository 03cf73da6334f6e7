"""The plugin contract: every hook a Frontdesk plugin can implement, grouped by theme.

Implement a hook with ``@frontdesk.hookimpl`` on a function of the same name in your plugin module.
Hooks take keyword arguments only; an implementation may accept any subset of them. Unless a hook
says "first non-None wins", every implementation is called and the core combines the results.
This module is the reference documentation: ``docs/hooks.md`` is generated from it.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

import click
import pluggy
from marshmallow import Schema

from frontdesk import hookspec

if TYPE_CHECKING:
    from frontdesk.automation import ActionType, Field
    from frontdesk.desk import Desk
    from frontdesk.jobs import Job
    from frontdesk.models import Comment, Event, Ticket, User
    from frontdesk.notifications import NotificationChannel
    from frontdesk.permissions import Actor, Permission
    from frontdesk.plugins.types import ListColumn, NavItem, RequestField
    from frontdesk.uow import UnitOfWork


# --- Plugin-to-plugin ------------------------------------------------------------------------


@hookspec(historic=True)
def frontdesk_add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Add hook specifications that this plugin offers to other plugins.

    Called once for every plugin as it is registered (historic: late plugins are called too).
    Call ``pm.add_hookspecs(module)`` with a module of ``@frontdesk.hookspec`` functions; name
    them ``frontdesk_<plugin>_<event>`` (e.g. ``frontdesk_sla_breached``).

    :param pm: the desk's pluggy plugin manager.
    """


# --- Registration: called while the desk starts, results combined by the core --------------------


@hookspec
def frontdesk_startup(desk: Desk) -> None:
    """Prepare the plugin once the desk has loaded every plugin.

    Called once per process, in dependency order. Raise to refuse to start: the plugin is then
    recorded as failed with the error and left out (or, in strict mode, the desk stops).

    :param desk: the starting desk (configuration, database, plugins).
    """


@hookspec
def frontdesk_register_commands(cli: click.Group) -> None:
    """Add commands to the ``frontdesk`` command line.

    Called when the CLI starts. Add one group named after the plugin (``@cli.group("sla")``) or,
    for the web layer, top-level commands such as ``serve``. A failure here is reported and the
    other commands keep working, so ``frontdesk plugins disable NAME`` always works.

    :param cli: the root ``frontdesk`` click group.
    """


@hookspec
def frontdesk_register_migrations() -> str | PathLike[str] | None:
    """Return the folder holding this plugin's Alembic revision files, or None if it has no tables.

    The folder is the plugin's own lineage, recorded in the version table ``alembic_version_<name>``;
    the core supplies ``env.py``. Its tables must be named ``<name>_...`` and may point to core
    tables by foreign key, never the reverse.
    """


@hookspec
def frontdesk_register_settings() -> type[Schema] | None:
    """Return the marshmallow schema of this plugin's settings, or None if it has none.

    Every field needs a ``load_default``. Stored values override defaults; admins read them with
    ``frontdesk plugins info NAME`` and change them with ``frontdesk plugins set NAME KEY VALUE``.
    """


@hookspec
def frontdesk_register_permissions() -> list[Permission]:
    """Return the named permissions this plugin checks, e.g. ``Permission("assets.manage", ...)``.

    Names start with the plugin name and a dot. Each permission lists the roles that hold it;
    admins hold every permission. All results are combined.
    """


@hookspec
def frontdesk_register_jobs() -> list[Job]:
    """Return the background jobs this plugin runs: :class:`frontdesk.jobs.Job` objects.

    A job is queued with ``desk.jobs.enqueue(name, **arguments)`` (or ``uow.enqueue`` to queue it
    only if the transaction commits) and runs on a worker as ``function(desk, **arguments)``;
    give it a ``schedule`` (``crontab(minute="*/5")``) to run it periodically instead. Names start
    with the plugin name and a dot. Jobs run at least once, so they must be idempotent; pass ids,
    not objects. Web and worker processes load the same plugins, so both know every job.
    """


@hookspec
def frontdesk_automation_fields() -> list[Field]:
    """Return ticket properties automation rules can test: :class:`frontdesk.automation.Field` objects.

    A field reads its value from the evaluation context (ticket, event, time), e.g. the SLA plugin's
    ``sla.state``. Names start with the plugin name and a dot. Every operator that applies to the
    field's kind (text, list, number, boolean) works on it; rules naming a field of a disabled plugin
    stop matching until it is enabled again.
    """


@hookspec
def frontdesk_automation_actions() -> list[ActionType]:
    """Return actions automation rules and macros can take: :class:`frontdesk.automation.ActionType` objects.

    Each has a marshmallow schema for its parameters (checked when a rule is saved) and a
    ``perform(ctx, params)`` that changes the ticket through services in ``ctx.uow`` and returns
    what it did in a few words for the automation log. Names start with the plugin name and a dot.
    """


@hookspec
def frontdesk_notification_channels() -> list[NotificationChannel]:
    """Return ways to deliver notifications: :class:`frontdesk.notifications.NotificationChannel` objects.

    Every notification is stored in-app by the core; each channel returned here also gets it, in a
    background job after commit, retried with backoff when ``deliver`` raises (the e-mail plugin
    sends mail this way).
    """


@hookspec
def frontdesk_register_blueprints() -> list[Any]:
    """Return Flask blueprints to mount in the web application.

    Called by the web layer while it builds the application. Each blueprint's name must equal the
    plugin name (``Blueprint("sla", ...)``); pages go under ``/<name>``, API endpoints under
    ``/api/v1/<name>``. All results are combined.
    """


# --- Tickets: inside the transaction (raise to refuse; errors propagate) --------------------------


@hookspec
def frontdesk_ticket_before_create(ticket: Ticket, actor: Actor, uow: UnitOfWork) -> None:
    """Check or adjust a new ticket before it is written.

    Called inside the creating transaction, after the core validated the input and before the
    ticket has a number. Change fields on ``ticket`` to adjust it (e.g. route it to a group), add
    rows through ``uow.session``, or raise :class:`frontdesk.errors.ValidationError` to refuse
    the whole action. Return value ignored.

    :param ticket: the new ticket (not yet flushed).
    :param actor: who creates it.
    :param uow: the unit of work of the action.
    """


@hookspec
def frontdesk_request_fields(user: User | None) -> list[RequestField]:
    """Return fields to ask for when someone opens a ticket: :class:`frontdesk.plugins.RequestField`.

    Called when the request form is shown (portal) and when a ticket is created by any entry
    point, which validates the submitted values with each field and calls its ``save`` inside the
    creating transaction. Values arrive as ``extensions: {plugin: {name: value}}``; an unknown
    name is refused.

    :param user: who opens the ticket (None for the system), so fields can depend on the person.
    """


@hookspec
def frontdesk_ticket_before_update(
    ticket: Ticket, changes: dict[str, list[Any]], actor: Actor, uow: UnitOfWork
) -> None:
    """Check or adjust a ticket change before it is written.

    Called inside the transaction after the core applied the changes to ``ticket``. Raise
    :class:`frontdesk.errors.ValidationError` to refuse the change. Return value ignored.

    :param ticket: the ticket with the changes applied.
    :param changes: ``{field: [old, new]}`` of what this action changes.
    :param actor: who changes it.
    :param uow: the unit of work of the action.
    """


@hookspec
def frontdesk_ticket_before_comment(ticket: Ticket, comment: Comment, actor: Actor, uow: UnitOfWork) -> None:
    """Check a reply or internal note before it is written.

    Called inside the transaction; raise :class:`frontdesk.errors.ValidationError` to refuse it.
    Return value ignored.

    :param ticket: the ticket commented on.
    :param comment: the new comment (``comment.public`` tells reply from note).
    :param actor: who writes it.
    :param uow: the unit of work of the action.
    """


# --- Tickets: after commit (delivered from the event outbox, at least once) -----------------------
# Every event hook receives the same arguments; implement any subset. Deliveries happen after the
# change is committed, in order per ticket, and again after a failure: use ``event.id`` to stay
# idempotent. A failing implementation is retried alone and never blocks other plugins.


@hookspec
def frontdesk_ticket_created(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a new ticket (auto-replies, routing, notifications).

    :param event: the committed event (``event.id``, ``event.payload``, ``event.source``).
    :param ticket: the ticket as it is now.
    :param actor: who caused the event, or None for the system.
    :param desk: the desk, for follow-up actions (``desk.action(...)``).
    """


@hookspec
def frontdesk_ticket_updated(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to changed ticket fields; ``event.payload["changes"]`` is ``{field: [old, new]}``.

    :param event: the committed event.
    :param ticket: the ticket as it is now.
    :param actor: who caused the event, or None for the system.
    :param desk: the desk.
    """


@hookspec
def frontdesk_ticket_commented(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a reply or internal note; the payload has ``comment_id``, ``public`` and ``by_staff``.

    :param event: the committed event.
    :param ticket: the ticket as it is now.
    :param actor: who caused the event, or None for the system.
    :param desk: the desk.
    """


@hookspec
def frontdesk_ticket_status_changed(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a status change; the payload has ``from`` and ``to`` status names.

    :param event: the committed event.
    :param ticket: the ticket as it is now (``ticket.status_category`` tells the category).
    :param actor: who caused the event, or None for the system.
    :param desk: the desk.
    """


@hookspec
def frontdesk_ticket_assigned(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a change of assignee; the payload has ``from`` and ``to`` e-mail addresses (or None).

    :param event: the committed event.
    :param ticket: the ticket as it is now.
    :param actor: who caused the event, or None for the system.
    :param desk: the desk.
    """


@hookspec
def frontdesk_ticket_merged(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a ticket merged into another; ``ticket`` is the closed duplicate, the payload has ``into``.

    :param event: the committed event.
    :param ticket: the merged (now closed) ticket.
    :param actor: who caused the event, or None for the system.
    :param desk: the desk.
    """


@hookspec
def frontdesk_ticket_fields(ticket: Ticket, user: User | None) -> dict[str, Any] | None:
    """Return extra fields to show with a ticket (API, CLI ``--json``), e.g. SLA due times.

    Called when a ticket is shown; the result appears under ``extensions.<plugin name>``. Return
    None to add nothing. A failing implementation is logged and skipped.

    :param ticket: the ticket shown.
    :param user: who looks at it (None for the system), so fields can depend on permissions.
    """


# --- Web --------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def frontdesk_make_wsgi_app(desk: Desk) -> Any:
    """Build the desk's WSGI application. First non-None wins.

    The web layer implements this, so the core (``frontdesk.testing``, for instance) can get an
    application without importing it.

    :param desk: the desk the application serves.
    """


@hookspec
def frontdesk_slot_ticket_sidebar(ticket: Ticket, user: User) -> Any:
    """Return HTML for the sidebar of the agent's ticket page (e.g. SLA clocks, linked assets).

    Return ``markupsafe.Markup`` (trusted HTML), plain text (escaped), ``(weight, content)`` to
    choose the position (lower first, default 100), or None. Failures are logged and skipped.

    :param ticket: the ticket shown.
    :param user: the agent looking at it.
    """


@hookspec
def frontdesk_ticket_list_columns(user: User) -> list[ListColumn]:
    """Return columns to add to the agent's ticket lists: :class:`frontdesk.plugins.ListColumn` objects.

    Each column's ``cells(tickets)`` is called once per page with all its tickets. A failing
    implementation (or ``cells``) is logged and its column left out; the list still renders.

    :param user: the agent looking at the list.
    """


@hookspec
def frontdesk_slot_ticket_actions(ticket: Ticket, user: User) -> Any:
    """Return HTML for the action bar of the agent's ticket page (buttons, small forms).

    Same return values as :func:`frontdesk_slot_ticket_sidebar`.

    :param ticket: the ticket shown.
    :param user: the agent looking at it.
    """


@hookspec
def frontdesk_slot_ticket_comment(ticket: Ticket, comment: Comment | None, user: User) -> Any:
    """Return HTML for the foot of one message in the agent's ticket thread (e.g. how it arrived).

    Called once per message shown: the opening request (``comment`` None) and each comment. An
    implementation that needs data for every message should load it once per ticket, not per call.
    Same return values as :func:`frontdesk_slot_ticket_sidebar`.

    :param ticket: the ticket shown.
    :param comment: the comment, or None for the ticket's opening request.
    :param user: the agent looking at it.
    """


@hookspec
def frontdesk_slot_dashboard_widgets(user: User) -> Any:
    """Return a widget for the agent dashboard: HTML for one Bootstrap column (``<section class="col-lg-4">``).

    Same return values as :func:`frontdesk_slot_ticket_sidebar`.

    :param user: the agent looking at the dashboard.
    """


@hookspec
def frontdesk_slot_portal_request(ticket: Ticket, user: User) -> Any:
    """Return HTML for the requester's view of one request in the portal (e.g. a survey prompt).

    Same return values as :func:`frontdesk_slot_ticket_sidebar`; never show internal data here.

    :param ticket: the request shown.
    :param user: the requester (or a colleague who may see it).
    """


@hookspec
def frontdesk_slot_portal_home(user: User) -> Any:
    """Return HTML for the requester's portal start page, below their requests (e.g. "My equipment").

    Same return values as :func:`frontdesk_slot_ticket_sidebar`; show only what concerns ``user``.

    :param user: the requester looking at the portal.
    """


@hookspec
def frontdesk_nav_items(user: User | None) -> list[NavItem]:
    """Return entries for the main navigation, as data rather than HTML.

    Called on every page render. Items whose ``permission`` the user lacks are dropped; the rest
    are sorted by ``weight`` (lower first). A failing implementation is logged and skipped.

    :param user: the signed-in user, or None for an anonymous visitor.
    """
