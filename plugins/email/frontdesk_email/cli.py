"""``frontdesk email ...``: the command group; the commands live in the modules named below."""

from __future__ import annotations

import click


@click.group("email")
def group() -> None:
    """Mail in and out: mailboxes, fetching, importing, receiving from an MTA."""


def _add_inbound_commands() -> None:
    from frontdesk_email.cli_inbound import import_mail, receive

    group.add_command(receive)
    group.add_command(import_mail)


_add_inbound_commands()


def _add_mailbox_commands() -> None:
    from frontdesk_email.cli_mailboxes import COMMANDS

    for command in COMMANDS:
        group.add_command(command)


_add_mailbox_commands()
