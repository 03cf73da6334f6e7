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
    from frontdesk.desk import Desk
    from frontdesk.models import User
    from frontdesk.permissions import Permission
    from frontdesk.plugins.types import NavItem


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
def frontdesk_register_blueprints() -> list[Any]:
    """Return Flask blueprints to mount in the web application.

    Called by the web layer while it builds the application. Each blueprint's name must equal the
    plugin name (``Blueprint("sla", ...)``); pages go under ``/<name>``, API endpoints under
    ``/api/v1/<name>``. All results are combined.
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
def frontdesk_nav_items(user: User | None) -> list[NavItem]:
    """Return entries for the main navigation, as data rather than HTML.

    Called on every page render. Items whose ``permission`` the user lacks are dropped; the rest
    are sorted by ``weight`` (lower first). A failing implementation is logged and skipped.

    :param user: the signed-in user, or None for an anonymous visitor.
    """
