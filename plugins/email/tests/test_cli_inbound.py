"""``frontdesk email receive`` (MTA pipe, exit codes) and ``frontdesk email import`` (Maildir, mbox, .eml)."""

from __future__ import annotations

import mailbox
from pathlib import Path
from typing import Any

import pytest
from frontdesk_email import pipeline
from frontdesk_email.cli_inbound import EX_TEMPFAIL
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from frontdesk.models import Ticket


def _tickets(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(Ticket))


def test_receive_files_a_message_from_stdin(cli: Any, db: Any, mail: Any) -> None:
    result = cli("email", "receive", input=mail().decode())
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "processed created #1"
    again = cli("email", "receive", input=mail().decode())
    assert (again.exit_code, again.output.strip()) == (0, "duplicate created #1")
    assert _tickets(db) == 1


def test_receive_accepts_a_refused_message_with_its_reason(cli: Any, mail: Any) -> None:
    result = cli("email", "receive", input="To: help@desk.test\nSubject: no sender\n\nhello\n")
    assert result.exit_code == 0
    assert "rejected" in result.output
    assert "no valid sender address" in result.output


def test_receive_asks_the_mta_to_retry_when_the_database_is_down(
    cli: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))

    monkeypatch.setattr(pipeline, "_record", down)
    result = cli("email", "receive", input=mail().decode())
    assert result.exit_code == EX_TEMPFAIL
    assert "try again later" in result.output


def test_receive_with_an_unknown_mailbox_is_a_temporary_failure(cli: Any, mail: Any) -> None:
    result = cli("email", "receive", "--mailbox", "nope", input=mail().decode())
    assert result.exit_code == EX_TEMPFAIL
    assert "no mailbox named 'nope'" in result.output


def _messages(mail: Any) -> list[bytes]:
    return [mail(subject=f"Question {n}", message_id=f"<q{n}@x>") for n in range(3)] + [
        mail(sender="MAILER-DAEMON@mx.example", subject="Undelivered", message_id="<bounce@x>")
    ]


def test_import_a_maildir_and_again(cli: Any, db: Any, mail: Any, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in _messages(mail):
        box.add(raw)
    result = cli("email", "import", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    assert "4 messages" in result.output
    assert "created: 3" in result.output
    assert "rejected: 1" in result.output
    assert "1 x rejected: delivery failure report (bounce): sent by mailer-daemon@mx.example" in result.output
    again = cli("email", "import", str(tmp_path / "Maildir"))
    assert "duplicate: 4" in again.output
    assert _tickets(db) == 3


def test_import_an_mbox_file_and_a_folder_of_eml(cli: Any, db: Any, mail: Any, tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    for raw in _messages(mail)[:2]:
        box.add(raw)
    box.close()
    assert "created: 2" in cli("email", "import", str(tmp_path / "archive.mbox")).output
    folder = tmp_path / "eml"
    folder.mkdir()
    for n, raw in enumerate(_messages(mail)):
        (folder / f"{n}.eml").write_bytes(raw)
    output = cli("email", "import", str(folder)).output
    assert "created: 1" in output
    assert "duplicate: 2" in output
    assert _tickets(db) == 3


def test_import_refuses_what_is_not_mail(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = cli("email", "import", str(tmp_path / "notes.txt"))
    assert result.exit_code == 1
    assert "is not a Maildir, an mbox file, or a folder or file of .eml messages" in result.output
