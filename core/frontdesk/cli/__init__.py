"""The ``frontdesk`` command: set up, run and script the desk. ``frontdesk COMMAND --help`` explains each command."""

from __future__ import annotations

import logging

import click

from frontdesk import __version__
from frontdesk.cli.automation import automation
from frontdesk.cli.base import CliState, FrontdeskGroup, echo_json, echo_table, pass_desk
from frontdesk.cli.db import db
from frontdesk.cli.demo import demo
from frontdesk.cli.events import events
from frontdesk.cli.jobs import jobs, worker
from frontdesk.cli.people import group, org, user
from frontdesk.cli.plugins import plugins
from frontdesk.cli.setup import config, init
from frontdesk.cli.tickets import ticket
from frontdesk.cli.tokens import token
from frontdesk.config import Config
from frontdesk.errors import FrontdeskError

HELP = """Frontdesk: a help desk and service desk you run yourself.

\b
Getting started:
  frontdesk init                 create the database and the first admin
  frontdesk serve                serve the desk on http://127.0.0.1:5000
  frontdesk plugins list         see what is installed and enabled
  frontdesk demo                 fill the desk with demo agents and tickets to try it out
  frontdesk ticket create --subject S --requester EMAIL
                                 open a ticket; `frontdesk ticket --help` shows the rest
  frontdesk token create --user EMAIL
                                 an API token for scripts (shown once)
  frontdesk worker               run background jobs in a separate process (scale-out)

Data lives in ./instance (FRONTDESK_INSTANCE); set FRONTDESK_DATABASE_URL to use PostgreSQL.
Jobs queue in ./instance/queue.db, or in PostgreSQL (FRONTDESK_QUEUE_URL, default: the desk's database).
Errors print one line and exit with 1; usage errors exit with 2. FRONTDESK_DEBUG=1 shows tracebacks.
"""


def make_cli() -> FrontdeskGroup:
    """A fresh root command group with the core commands; plugin commands join it on first use."""

    @click.group(cls=FrontdeskGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="frontdesk")
    def cli() -> None:
        pass

    for command in (init, config, db, plugins, user, group, org, ticket, demo, automation, events, jobs, worker, token):
        cli.add_command(command)
    return cli  # type: ignore[return-value]


def main() -> None:
    """Console entry point."""
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        config = Config.from_env()
    except FrontdeskError as exc:
        raise SystemExit(f"Error: {exc.message}") from None
    make_cli().main(obj=CliState(config), prog_name="frontdesk")


__all__ = ["CliState", "echo_json", "echo_table", "main", "make_cli", "pass_desk"]
