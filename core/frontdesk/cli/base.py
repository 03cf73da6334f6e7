"""What every CLI command shares: the lazily built desk, the root group class, and output helpers."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.errors import FrontdeskError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("frontdesk.cli")


class CliState:
    """The context object: configuration now, the desk (database + plugins) on first use."""

    def __init__(self, config: Config, *, plugins: list[Any] | None = None) -> None:
        self.config = config
        self.plugins = plugins
        self._desk: Desk | None = None

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            self._desk = Desk(self.config, plugins=self.plugins)
        return self._desk

    def reset(self) -> None:
        """Forget the desk, so the next use sees plugin decisions stored meanwhile."""
        if self._desk is not None:
            self._desk.close()
        self._desk = None


def pass_desk(f: F) -> F:
    """Decorate a command to receive the desk as its first argument (plugin commands use this too)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = click.get_current_context().find_object(CliState)
        if state is None:
            raise click.UsageError("this command must run under the `frontdesk` command")
        return f(state.desk, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (the ``--json`` output of every command)."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def echo_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as aligned columns with a header line."""
    widths = {c: max([len(c), *(len(str(row.get(c) or "")) for row in rows)]) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        click.echo("  ".join(str(row.get(c) or "").ljust(widths[c]) for c in columns).rstrip())


class FrontdeskGroup(click.Group):
    """The root group: adds plugin commands on first use and turns expected errors into one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins_loaded = False

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        state = ctx.find_object(CliState)
        if self._plugins_loaded or state is None:
            return
        self._plugins_loaded = True

        def report(plugin: str, exc: Exception) -> None:
            click.secho(
                f"warning: plugin {plugin!r} could not add its commands: {_first_line(exc)}", fg="yellow", err=True
            )

        try:
            desk = state.desk
        except Exception as exc:  # the core commands must work even when plugins or the database do not
            click.secho(f"warning: plugin commands are unavailable: {_first_line(exc)}", fg="yellow", err=True)
            return
        desk.plugins.calls.each("frontdesk_register_commands", cli=self, on_error=report)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_plugin_commands(ctx)
            command = super().get_command(ctx, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FrontdeskError as exc:
            raise click.ClickException(exc.message) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {_first_line(exc)}") from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("FRONTDESK_DEBUG"):
                raise
            log.debug("unexpected error", exc_info=True)
            message = f"Error: {type(exc).__name__}: {_first_line(exc)} (FRONTDESK_DEBUG=1 shows the traceback)"
            print(message, file=sys.stderr)
            ctx.exit(1)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
