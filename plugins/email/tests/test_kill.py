"""An import killed half-way and started again files every message exactly once."""

from __future__ import annotations

import mailbox
import os
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from frontdesk_email.models import InboundMessage
from sqlalchemy import func, select

from frontdesk.models import Ticket

MESSAGES = 1000


def _maildir(path: Path) -> Path:
    box = mailbox.Maildir(path, create=True)
    for n in range(MESSAGES):
        message = EmailMessage()
        message["From"] = f"Customer {n % 50} <customer{n % 50}@example.org>"
        message["To"] = "help@desk.test"
        message["Subject"] = f"Question number {n}"
        if n % 10:  # every tenth message has no Message-ID: it is recognised by its content
            message["Message-ID"] = f"<kill-{n}@example.org>"
        message.set_content(f"Question {n}: how do I reset my password?")
        box.add(message.as_bytes())
    return path


def _processed(desk: Any) -> int:
    with desk.db.reading() as session:
        return session.scalar(
            select(func.count()).select_from(InboundMessage).where(InboundMessage.status != "received")
        )


def test_an_import_killed_mid_run_and_restarted_files_each_message_once(desk: Any, tmp_path: Path) -> None:
    maildir = _maildir(tmp_path / "Maildir")
    env = {
        **os.environ,
        "FRONTDESK_DATABASE_URL": desk.config.database_url,
        "FRONTDESK_INSTANCE": str(desk.config.instance_path),
        "FRONTDESK_SECRET_KEY": desk.config.secret_key,
        "FRONTDESK_LOAD_PLUGINS": "webui,email",
        "FRONTDESK_QUEUE_URL": "memory://",  # events are handled in the importer's process: no queue file
    }
    command = [sys.executable, "-m", "frontdesk", "email", "import", str(maildir)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _processed(desk) < 150 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.kill()
    first.wait()
    done_before = _processed(desk)
    assert 150 <= done_before < MESSAGES, "the import was killed mid-run"

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert second.returncode == 0, second.stderr
    assert f"{MESSAGES} messages" in second.stdout
    assert f"created: {MESSAGES - done_before}" in second.stdout or f"duplicate: {done_before}" in second.stdout

    with desk.db.reading() as session:
        rows = session.execute(select(InboundMessage.status, InboundMessage.outcome, InboundMessage.ticket_id)).all()
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        subjects = session.scalar(select(func.count(func.distinct(Ticket.subject))))
    assert len(rows) == MESSAGES
    assert {(status, outcome) for status, outcome, _ in rows} == {("processed", "created")}
    assert len({ticket for _, _, ticket in rows}) == MESSAGES
    assert tickets == subjects == MESSAGES
