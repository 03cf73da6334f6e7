"""Inbound mail throughput and threading accuracy: a folder of messages (70% new, 30% replies) imported.

Replies come in three shapes, a third each: quoting the requester's own earlier Message-ID (a
known reference), quoting the desk's signed Message-ID, and Outlook-style with no In-Reply-To at
all, only the ``[#n]`` subject token and the signed reply address. Every reply names the ticket
it must land on; accuracy is the share that did.

    .venv/bin/python bench/inbound_mail.py                      # 10,000 messages on SQLite
    .venv/bin/python bench/inbound_mail.py --messages 2000 --backend both
    .venv/bin/python bench/inbound_mail.py --live 1000          # also live mail, one message at a time

Live mail (IMAP, the MTA pipe, the webhook) goes through ``pipeline.ingest`` message by message:
recorded in one transaction, then processed in another, its raw copy stored durably.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from fixtures import DEFAULT_POSTGRES_URL, SEED, Summary, fresh_database, run_backends
from frontdesk_email import tokens
from frontdesk_email.importer import import_path
from frontdesk_email.models import InboundMessage, Mailbox
from frontdesk_email.pipeline import ingest
from sqlalchemy import func, select

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.models import Ticket
from frontdesk.permissions import SYSTEM

DESK_ADDRESS = "help@bench.example"
SECRET = "bench-secret"  # noqa: S105 (a throwaway desk)
SENDERS = 2000
TARGET_RATE = 300.0
WORDS = ["printer", "invoice", "login", "password", "vpn", "laptop", "order", "refund", "badge", "calendar"]


@contextmanager
def email_desk(url: str, instance: Path) -> Any:
    """A migrated desk with the web layer and the email plugin, and one mailbox."""
    config = Config(instance_path=instance, database_url=url, secret_key=SECRET)
    desk = Desk(config, plugins=["webui", "email"])
    try:
        migrate.upgrade_all(desk)
        with desk.action(SYSTEM, source="bench") as uow:
            uow.session.add(Mailbox(name="help", address=DESK_ADDRESS))
        yield desk
    finally:
        desk.close()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def write_messages(folder: Path, count: int, reply_share: float) -> dict[str, int]:
    """Write ``count`` .eml files; return the Message-ID of each reply and the ticket number it belongs to."""
    rng = random.Random(SEED)
    key = tokens.threading_key(SECRET)
    folder.mkdir(parents=True, exist_ok=True)
    originals: list[tuple[str, str, str]] = []  # (sender, subject, message id), ticket n = index + 1
    expected: dict[str, int] = {}
    when = time.time() - 86400 * 30
    for index in range(count):
        message = EmailMessage()
        message["Date"] = format_datetime(datetime.fromtimestamp(when + index, UTC))
        own_id = f"<bench-{index}@client.example>"
        message["Message-ID"] = own_id
        if originals and rng.random() < reply_share:
            number = rng.randrange(len(originals)) + 1
            sender, subject, first_id = originals[number - 1]
            shape = index % 3
            message["From"] = sender
            if shape == 0:  # a mail client's reply to the requester's own message
                message["To"] = DESK_ADDRESS
                message["Subject"] = f"Re: {subject}"
                message["In-Reply-To"] = first_id
                message["References"] = first_id
            elif shape == 1:  # a reply to the desk's notification
                ours = tokens.make_message_id(key, number, "bench.example")
                message["To"] = tokens.reply_address(key, DESK_ADDRESS, number)
                message["Subject"] = f"Re: [#{number}] {subject}"
                message["In-Reply-To"] = ours
                message["References"] = f"{first_id} {ours}"
            else:  # Outlook: no In-Reply-To, only the token and the reply address
                message["To"] = tokens.reply_address(key, DESK_ADDRESS, number)
                message["Subject"] = f"AW: [#{number}] {subject}"
            message.set_content(f"{_text(rng, 12)}\n\nOn Monday the desk wrote:\n> {_text(rng, 20)}\n")
            expected[own_id] = number
        else:
            sender = f"Requester {len(originals) % SENDERS} <requester{len(originals) % SENDERS}@client.example>"
            subject = f"{_text(rng, 4)} ({index})"
            message["From"], message["To"], message["Subject"] = sender, DESK_ADDRESS, subject
            message.set_content(f"Hello,\n\n{_text(rng, 40)}\n\nThanks\n")
            originals.append((sender, subject, own_id))
        (folder / f"{index:06d}.eml").write_bytes(message.as_bytes())
    return expected


def measure(count: int, reply_share: float, live: int, postgres_url: str) -> Any:
    def run(backend: str, url: str, workdir: Path, summary: Summary) -> None:
        folder = workdir / "mail"
        expected = write_messages(folder, count, reply_share)
        with email_desk(url, workdir / "instance") as desk:
            started, cpu = time.perf_counter(), time.process_time()
            result = import_path(desk, folder)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            with desk.db.reading() as session:
                landed = dict(
                    session.execute(
                        select(InboundMessage.message_id, InboundMessage.ticket_id).where(
                            InboundMessage.message_id.in_(list(expected)), InboundMessage.outcome == "appended"
                        )
                    ).all()
                )
                tickets = session.scalar(select(func.count()).select_from(Ticket))
        right = sum(1 for message_id, number in expected.items() if landed.get(message_id) == number)
        rate = count / elapsed
        accuracy = right / len(expected) if expected else 1.0
        summary.add(
            backend,
            f"ingest {count} messages",
            f"{rate:.0f} msg/s",
            f">= {TARGET_RATE:.0f}",
            "ok" if rate >= TARGET_RATE else "SLOW",
        )
        summary.add(backend, "CPU time per message (importer)", f"{cpu / count * 1000:.1f} ms")
        summary.add(
            backend,
            f"replies threaded ({len(expected)})",
            f"{accuracy:.2%}",
            "100%",
            "ok" if right == len(expected) else "MISSED",
        )
        summary.notes.append(
            f"{backend}: {elapsed:.1f} s, {tickets} tickets, results {dict(sorted(result.results.items()))}"
        )
        if live:
            with fresh_database(backend, workdir, "email_live", postgres_url) as live_url:
                measure_live(backend, live_url, workdir, live, reply_share, summary)

    return run


def measure_live(backend: str, url: str, workdir: Path, count: int, reply_share: float, summary: Summary) -> None:
    """Live mail: ``count`` messages on a fresh desk, each through ``pipeline.ingest`` as it arrives."""
    folder = workdir / "live-mail"
    write_messages(folder, count, reply_share)
    raws = [path.read_bytes() for path in sorted(folder.glob("*.eml"))]
    with email_desk(url, workdir / "live-instance") as desk:
        started, cpu = time.perf_counter(), time.process_time()
        processed = sum(ingest(desk, raw, source="pipe").status == "processed" for raw in raws)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    summary.add(backend, f"live mail, {count} one at a time", f"{count / elapsed:.0f} msg/s")
    summary.add(backend, "CPU time per message (live)", f"{cpu / count * 1000:.1f} ms")
    summary.notes.append(f"{backend}: live mail {elapsed:.1f} s, {processed} of {count} processed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--reply-share", type=float, default=0.3)
    parser.add_argument("--live", type=int, default=0, help="also feed this many messages one at a time (live mail)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    return run_backends(
        "email ingest benchmark",
        args.backend,
        args.postgres_url,
        "email",
        measure(args.messages, args.reply_share, args.live, args.postgres_url),
    )


if __name__ == "__main__":
    sys.exit(main())
