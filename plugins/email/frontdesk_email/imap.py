"""Fetching mail from IMAP mailboxes into the inbound pipeline, acknowledging each message only after commit.

A poll reads the mailbox folder by UID without marking anything (``BODY.PEEK[]``), hands each
message to :func:`frontdesk_email.pipeline.ingest` (which records it by Message-ID and commits),
and only then flags it ``\\Seen`` or moves it to the processed folder. A crash between the two
leaves the message unacknowledged: the next poll hands it over again and the pipeline recognises
it as a duplicate, so nothing is lost or processed twice. One failing message never stops the others.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select

from frontdesk.db import utcnow
from frontdesk.errors import ConfigError, ValidationError
from frontdesk.permissions import SYSTEM
from frontdesk_email import pipeline
from frontdesk_email.models import Mailbox

if TYPE_CHECKING:
    from frontdesk.desk import Desk

log = logging.getLogger("frontdesk.email.imap")

TIMEOUT = 30.0
BATCH = 25  # messages fetched per round trip: bounds memory on a full mailbox
SEEN = b"\\Seen"
IDLE_RENEW = 25 * 60.0  # RFC 2177: idle again before the server's 29-minute limit
IDLE_WAKE = 1.0  # seconds between looks at the stop flag while idling
WATCH_INTERVAL = 60.0  # polling without IDLE, and the pause after a lost connection


@dataclass
class PollReport:
    """What one poll of one mailbox did: messages handed over, by pipeline status, and failures."""

    mailbox: str
    fetched: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI and the admin page."""
        counts = ", ".join(f"{count} {status}" for status, count in sorted(self.statuses.items())) or "nothing new"
        failed = f"; {len(self.errors)} failed: {self.errors[0]}" if self.errors else ""
        return f"{self.mailbox}: {self.fetched} fetched ({counts}){failed}"


def password_of(mailbox: Mailbox) -> str:
    """The IMAP password: stored on the mailbox, or read from the environment variable it names."""
    if mailbox.imap_password_env:
        value = os.environ.get(mailbox.imap_password_env)
        if value is None:
            raise ConfigError(f"the environment variable {mailbox.imap_password_env} (IMAP password) is not set")
        return value
    if mailbox.imap_password is None:
        raise ConfigError(f"mailbox {mailbox.name!r} has no IMAP password")
    return mailbox.imap_password


@contextmanager
def connect(mailbox: Mailbox) -> Iterator[IMAPClient]:
    """A logged-in IMAP connection to the mailbox's server (TLS, STARTTLS or plain, as configured)."""
    if not mailbox.imap_host:
        raise ValidationError({"imap_host": [f"mailbox {mailbox.name!r} has no IMAP server"]})
    context = ssl.create_default_context()
    client = IMAPClient(
        mailbox.imap_host,
        port=mailbox.imap_port,
        ssl=mailbox.imap_security == "tls",
        ssl_context=context,
        timeout=TIMEOUT,
    )
    try:
        if mailbox.imap_security == "starttls":
            client.starttls(context)
        client.login(mailbox.imap_username or "", password_of(mailbox))
        yield client
    finally:
        try:
            client.logout()
        except (IMAPClientError, OSError):
            client.shutdown()


def check(mailbox: Mailbox) -> str:
    """Try the connection: log in, open the folder (and the processed folder); say what is there."""
    with connect(mailbox) as client:
        folder = client.select_folder(mailbox.imap_folder, readonly=True)
        waiting = len(client.search(["UNSEEN"]))
        note = ""
        if mailbox.processed_folder and not client.folder_exists(mailbox.processed_folder):
            note = f"; the folder {mailbox.processed_folder!r} will be created on the first poll"
    return f"connected: {mailbox.imap_folder} holds {folder.get(b'EXISTS', 0)} messages, {waiting} unseen{note}"


def poll(desk: Desk, mailbox_id: int) -> PollReport:
    """Fetch the mailbox's new messages once, pass each to the pipeline, acknowledge each after it returns."""
    mailbox = _load(desk, mailbox_id)
    report = PollReport(mailbox.name)
    try:
        with connect(mailbox) as client:
            _fetch_all(desk, client, mailbox, report)
    except Exception as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}")
        log.warning("polling mailbox %s failed: %s", mailbox.name, report.errors[-1])
    _record(desk, mailbox_id, report)
    return report


def _load(desk: Desk, mailbox_id: int) -> Mailbox:
    with desk.reading(SYSTEM) as uow:
        mailbox = uow.session.get(Mailbox, mailbox_id)
        if mailbox is None:
            raise ValidationError({"mailbox": [f"no mailbox #{mailbox_id}"]})
        uow.session.expunge(mailbox)
    return mailbox


def _record(desk: Desk, mailbox_id: int, report: PollReport) -> None:
    """Note the poll on the mailbox: when, and the errors (shown on the mailboxes page)."""
    with desk.db.transaction() as session:
        stored = session.get(Mailbox, mailbox_id)
        if stored is not None:
            stored.last_polled_at = utcnow()
            stored.last_error = "; ".join(report.errors)[:2000] if report.errors else None


def watch(
    desk: Desk,
    mailbox_id: int,
    stop: threading.Event,
    report: Callable[[PollReport], None] = lambda _report: None,
    idling: threading.Event | None = None,
) -> None:
    """File the mailbox's new mail as soon as the server announces it (IMAP IDLE), until ``stop`` is set.

    Fetches what is waiting, then idles; any news from the server (or the renewal every
    ``IDLE_RENEW`` seconds) fetches again. A server without IDLE is polled every ``WATCH_INTERVAL``
    seconds; a lost connection is retried after the same pause. Paused mailboxes are left alone.
    ``idling`` is set while the server is listened to (set and cleared around each IDLE).
    """
    while not stop.is_set():
        try:
            mailbox = _load(desk, mailbox_id)
        except ValidationError:
            return  # deleted meanwhile
        if mailbox.paused:
            stop.wait(WATCH_INTERVAL)
            continue
        try:
            with connect(mailbox) as client:
                while not stop.is_set():
                    done = PollReport(mailbox.name)
                    _fetch_all(desk, client, mailbox, done)
                    _record(desk, mailbox_id, done)
                    report(done)
                    if not client.has_capability("IDLE"):
                        stop.wait(WATCH_INTERVAL)
                    else:
                        _idle(client, stop, idling)
        except Exception as exc:
            failed = PollReport(mailbox.name, errors=[f"{type(exc).__name__}: {exc}"])
            _record(desk, mailbox_id, failed)
            report(failed)
            stop.wait(WATCH_INTERVAL)


def _idle(client: IMAPClient, stop: threading.Event, idling: threading.Event | None) -> None:
    """Wait in IDLE until the server says something, the renewal time passes, or ``stop`` is set."""
    client.idle()
    if idling is not None:
        idling.set()
    started = time.monotonic()
    try:
        while not stop.is_set() and time.monotonic() - started < IDLE_RENEW:
            if client.idle_check(timeout=IDLE_WAKE):
                return
    finally:
        if idling is not None:
            idling.clear()
        client.idle_done()


def _fetch_all(desk: Desk, client: IMAPClient, mailbox: Mailbox, report: PollReport) -> None:
    client.select_folder(mailbox.imap_folder)
    moving = bool(mailbox.processed_folder)
    if moving and not client.folder_exists(mailbox.processed_folder):
        client.create_folder(mailbox.processed_folder)
    # Moved mail leaves the folder, so everything in it is new; otherwise "new" means not yet seen.
    uids = sorted(client.search(["NOT", "DELETED"] if moving else ["UNSEEN", "NOT", "DELETED"]))
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        for uid, data in client.fetch(batch, ["BODY.PEEK[]"]).items():
            raw = data.get(b"BODY[]")
            if raw is None:
                continue
            report.fetched += 1
            try:
                outcome = pipeline.ingest(desk, raw, source="imap", mailbox_id=mailbox.id)
            except Exception as exc:  # left unacknowledged: the next poll offers it again
                report.errors.append(f"UID {uid}: {type(exc).__name__}: {exc}")
                log.exception("mailbox %s: message UID %s could not be processed", mailbox.name, uid)
                continue
            report.statuses[outcome.status] = report.statuses.get(outcome.status, 0) + 1
            _acknowledge(client, uid, mailbox)


def _acknowledge(client: IMAPClient, uid: int, mailbox: Mailbox) -> None:
    """Mark a committed message done on the server: moved to the processed folder, or flagged seen."""
    if mailbox.processed_folder:
        if client.has_capability("MOVE"):
            client.move([uid], mailbox.processed_folder)
        else:
            client.copy([uid], mailbox.processed_folder)
            client.delete_messages([uid])
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([uid])
            else:
                client.expunge()
    else:
        client.add_flags([uid], [SEEN])


def poll_all(desk: Desk) -> list[PollReport]:
    """Poll every IMAP mailbox that is not paused (the periodic ``email.poll`` job; ``frontdesk email fetch``)."""
    with desk.reading(SYSTEM) as uow:
        ids = list(
            uow.session.scalars(
                select(Mailbox.id).where(Mailbox.paused.is_(False), Mailbox.imap_host.is_not(None)).order_by(Mailbox.id)
            )
        )
    return [poll(desk, mailbox_id) for mailbox_id in ids]


def poll_job(desk: Desk) -> None:
    """The periodic job: poll every mailbox; problems are recorded on each mailbox (``last_error``)."""
    poll_all(desk)
