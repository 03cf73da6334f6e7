"""``frontdesk email ...``: the command group; the commands live in the modules named below."""

from __future__ import annotations

import click


@click.group("email")
def group() -> None:
    """Mail in and out: mailboxes, fetching, importing, receiving from an MTA."""
