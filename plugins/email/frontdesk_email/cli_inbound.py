"""``frontdesk email receive`` (one message from an MTA) and ``frontdesk email import PATH`` (mail in bulk)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from frontdesk.cli.base import CliState, pass_desk
from frontdesk.desk import Desk
from frontdesk_email import mailboxes
from frontdesk_email.importer import ImportSourceError, count_messages, import_path
from frontdesk_email.pipeline import ingest

EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later


def _mailbox_id(desk: Desk, name: str | None) -> int | None:
    if not name:
        return None
    with desk.db.reading() as session:
        found = mailboxes.lookup(session, name)
        if found is None:
            raise click.ClickException(f"no mailbox named {name!r}")
        return found.id


@click.command("receive")
@click.option("--mailbox", "mailbox_name", help="Name or address of the mailbox the message arrived at.")
def receive(mailbox_name: str | None) -> None:
    """Read one RFC 5322 message from standard input and file it (for an MTA pipe or alias).

    Exit status 0 means the desk took the message (filed, held for review, a duplicate, or refused
    by policy, with the reason printed); 75 (EX_TEMPFAIL) means try again later (the database is
    unavailable, the mailbox is unknown): the MTA keeps the message meanwhile.
    """
    raw = sys.stdin.buffer.read()
    try:
        desk = click.get_current_context().find_object(CliState).desk  # type: ignore[union-attr]
        outcome = ingest(desk, raw, source="pipe", mailbox_id=_mailbox_id(desk, mailbox_name))
    except Exception as exc:  # anything that kept the desk from taking the message: the MTA must keep it
        message = exc.message if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"temporary failure, try again later: {message}", err=True)
        sys.exit(EX_TEMPFAIL)
    detail = f" #{outcome.ticket_number}" if outcome.ticket_number else ""
    click.echo(f"{outcome.status}{' ' + outcome.outcome if outcome.outcome else ''}{detail}")
    if outcome.reason:
        click.echo(f"reason: {outcome.reason}", err=True)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_desk
def import_mail(desk: Desk, path: Path) -> None:
    """Import a Maildir, an mbox file, or a folder of .eml files; safe to stop and run again."""
    try:
        total = count_messages(path)
    except ImportSourceError as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(length=total, label=f"Importing {total} messages", file=sys.stderr) as bar:
        summary = import_path(desk, path, progress=bar.update)
    click.echo(f"{summary.total} messages")
    for result, count in sorted(summary.results.items()):
        click.echo(f"  {result}: {count}")
    if summary.reasons:
        click.echo("reasons:")
        for reason, count in summary.reasons.most_common():
            click.echo(f"  {count} x {reason}")
