"""``frontdesk email mailbox add|list|test``, ``fetch`` (poll once), ``watch`` (IMAP IDLE) and ``listen`` (SMTP)."""

from __future__ import annotations

import threading
from typing import Any

import click

from frontdesk.cli.base import echo_json, echo_table, pass_desk
from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk_email import imap, listener, mailboxes


@click.group("mailbox")
def mailbox_group() -> None:
    """The desk's mailboxes: addresses, their groups and IMAP folders."""


@mailbox_group.command("add")
@click.argument("name")
@click.argument("address")
@click.option("--group", help="Group that gets the mailbox's tickets.")
@click.option("--imap-host", help="IMAP server to fetch mail from (none: mail comes by pipe, listener or webhook).")
@click.option("--imap-port", type=int, help="Default: 993 with TLS, 143 otherwise.")
@click.option("--security", "imap_security", type=click.Choice(mailboxes.SECURITY), default="tls", show_default=True)
@click.option("--username", "imap_username", help="IMAP user name.")
@click.option("--password-env", "imap_password_env", help="Environment variable holding the IMAP password.")
@click.option("--password", "imap_password", help="The IMAP password itself (prefer --password-env).")
@click.option("--folder", "imap_folder", default="INBOX", show_default=True)
@click.option("--processed-folder", help="Move processed mail here (default: flag it seen and leave it).")
@click.option("--paused", is_flag=True, help="Add it paused (no polling until resumed).")
@pass_desk
def add(desk: Desk, name: str, address: str, **options: Any) -> None:
    """Add mailbox NAME for ADDRESS."""
    data = {"name": name, "address": address, **{key: value for key, value in options.items() if value is not None}}
    with desk.action(SYSTEM, source="cli") as uow:
        mailbox = mailboxes.add_mailbox(uow, data)
        added = f"Mailbox {mailbox.name} <{mailbox.address}> added (#{mailbox.id})."
    click.echo(added)  # once committed


@mailbox_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_desk
def list_(desk: Desk, as_json: bool) -> None:
    """List the mailboxes."""
    with desk.reading(SYSTEM) as uow:
        rows = [
            {
                "id": m.id,
                "name": m.name,
                "address": m.address,
                "imap": f"{m.imap_username}@{m.imap_host}:{m.imap_port}/{m.imap_folder}" if m.imap_host else None,
                "security": m.imap_security if m.imap_host else None,
                "state": "paused" if m.paused else "active",
                "last_error": m.last_error,
            }
            for m in mailboxes.list_mailboxes(uow)
        ]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["id", "name", "address", "imap", "state", "last_error"])


@mailbox_group.command("test")
@click.argument("mailbox")
@pass_desk
def test(desk: Desk, mailbox: str) -> None:
    """Log in to MAILBOX's IMAP server (name, address or id) and open its folder."""
    with desk.reading(SYSTEM) as uow:
        result = mailboxes.test_connection(uow, mailboxes.find_mailbox(uow, mailbox).id)
    if not result.ok:
        raise click.ClickException(result.message)
    click.echo(result.message)


@click.command("fetch")
@click.argument("mailbox", required=False)
@pass_desk
def fetch(desk: Desk, mailbox: str | None) -> None:
    """Poll the IMAP mailboxes once (or only MAILBOX) and file their new mail; exit 1 if any failed."""
    if mailbox:
        with desk.reading(SYSTEM) as uow:
            reports = [imap.poll(desk, mailboxes.find_mailbox(uow, mailbox).id)]
    else:
        reports = imap.poll_all(desk)
    if not reports:
        click.echo("No IMAP mailbox to poll (add one with `frontdesk email mailbox add`).")
    for report in reports:
        click.echo(report.summary())
    if any(report.errors for report in reports):
        raise click.exceptions.Exit(1)


@click.command("watch")
@click.argument("mailbox", required=False)
@pass_desk
def watch(desk: Desk, mailbox: str | None) -> None:
    """File new mail the moment it arrives (IMAP IDLE) in every active mailbox (or MAILBOX), until interrupted.

    An alternative to the once-a-minute polling of the ``email.poll`` job, for servers that support IDLE.
    """
    with desk.reading(SYSTEM) as uow:
        chosen = [mailboxes.find_mailbox(uow, mailbox)] if mailbox else mailboxes.list_mailboxes(uow)
        ids = [m.id for m in chosen if m.imap_host and (mailbox or not m.paused)]
    if not ids:
        raise click.ClickException("no IMAP mailbox to watch (add one with `frontdesk email mailbox add`)")
    stop = threading.Event()
    threads = [
        threading.Thread(target=imap.watch, args=(desk, mailbox_id, stop, _echo_report), daemon=True)
        for mailbox_id in ids
    ]
    for thread in threads:
        thread.start()
    click.echo(f"Watching {len(ids)} mailbox{'es' if len(ids) != 1 else ''} (Ctrl+C stops).")
    try:
        while any(thread.is_alive() for thread in threads):
            stop.wait(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=imap.IDLE_WAKE * 5)


def _echo_report(report: imap.PollReport) -> None:
    if report.fetched or report.errors:
        click.echo(report.summary())


@click.command("listen")
@click.option("--host", default=listener.DEFAULT_HOST, show_default=True, help="Interface to bind (keep it local).")
@click.option("--port", default=listener.DEFAULT_PORT, show_default=True, type=int)
@click.option("--lmtp", is_flag=True, help="Speak LMTP instead of SMTP.")
@pass_desk
def listen(desk: Desk, host: str, port: int, lmtp: bool) -> None:
    """Receive mail over SMTP (or LMTP) from the local MTA and file it, until interrupted."""
    server = listener.controller(desk, host=host, port=port, lmtp=lmtp)
    server.start()
    click.echo(f"Listening for {'LMTP' if lmtp else 'SMTP'} on {host}:{port} (Ctrl+C stops).")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


COMMANDS = (mailbox_group, fetch, watch, listen)
