"""``frontdesk sla``: calendars, policies, due times, YAML export and all-or-nothing import."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from frontdesk_sla import tracking
from frontdesk_sla.models import SlaClock
from sqlalchemy import func, select, update

from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import tickets

CALENDAR = [
    "sla", "calendar", "add", "Office",
    "--timezone", "Europe/Berlin",
    "--hours", "mon-fri 08:00-12:00,13:00-17:00",
    "--hours", "sat 10:00-14:00",
    "--holidays", "DE-BY",
    "--closed", "2026-12-24",
]  # fmt: skip


def test_calendar_add_list_and_due(cli: Any) -> None:
    assert cli(*CALENDAR).exit_code == 0
    listed = json.loads(cli("sla", "calendar", "list", "--json").output)
    assert listed[0]["hours"] == ["mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-14:00"]
    assert listed[0]["closed"] == ["2026-12-24"]
    assert "Europe/Berlin" in cli("sla", "calendar", "list").output
    due = cli("sla", "due", "--calendar", "Office", "--start", "2026-03-27T16:30:00+01:00", "--minutes", "120")
    assert due.output.strip() == "2026-03-28T11:30:00+01:00"  # Saturday hours count
    answer = json.loads(
        cli(
            "sla", "due", "--calendar", "Office", "--start", "2026-12-23T16:00:00+01:00", "--minutes", "120", "--json"
        ).output
    )
    assert answer["due_local"] == "2026-12-28T09:00:00+01:00"  # 24th closed, 25th/26th holidays, Sunday closed


def test_bad_input_gives_one_line_and_a_failing_exit_code(cli: Any) -> None:
    bad = cli("sla", "calendar", "add", "X", "--timezone", "Mars/Base", "--hours", "mon 08:00-12:00")
    assert bad.exit_code != 0
    assert "timezone" in bad.output
    assert cli(*CALENDAR).exit_code == 0
    assert cli(*CALENDAR).exit_code != 0  # the name is taken
    missing = cli("sla", "due", "--calendar", "Nope", "--start", "2026-03-27T16:30:00+01:00", "--minutes", "1")
    assert missing.exit_code != 0
    naive = cli("sla", "due", "--calendar", "Office", "--start", "2026-03-27T16:30:00", "--minutes", "1")
    assert naive.exit_code != 0
    assert "start" in naive.output
    target = cli("sla", "policy", "add", "P", "--target", "urgent:first_response")
    assert target.exit_code != 0
    assert "target" in target.output


def test_policies_export_and_import_all_or_nothing(cli: Any, tmp_path: Path) -> None:
    assert cli(*CALENDAR).exit_code == 0
    added = cli(
        "sla", "policy", "add", "Urgent", "--calendar", "Office", "--priority", "urgent",
        "--target", "urgent:first_response:60", "--target", "urgent:resolution:1440:calendar",
        "--pause-on", "on-hold", "--warn", "75",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = json.loads(cli("sla", "policy", "list", "--json").output)
    assert listed[0]["conditions"] == {"priority": ["urgent"]}
    assert listed[0]["targets"][1] == {
        "priority": "urgent", "metric": "resolution", "minutes": 1440.0, "business": False, "warn_percent": 75,
    }  # fmt: skip
    assert "priority=urgent" in cli("sla", "policy", "list").output
    exported = tmp_path / "sla.yaml"
    assert cli("sla", "export", str(exported)).exit_code == 0
    text = exported.read_text()
    changed = text.replace("minutes: 60.0", "minutes: 30.0").replace("Europe/Berlin", "America/New_York")
    broken = changed + "- name: Broken\n  targets: []\n"
    (tmp_path / "broken.yaml").write_text(broken)
    refused = cli("sla", "import", str(tmp_path / "broken.yaml"))
    assert refused.exit_code != 0
    assert "policies[1].targets" in refused.output
    assert json.loads(cli("sla", "calendar", "list", "--json").output)[0]["timezone"] == "Europe/Berlin", (
        "nothing written"
    )
    (tmp_path / "changed.yaml").write_text(changed)
    assert cli("sla", "import", str(tmp_path / "changed.yaml")).exit_code == 0
    calendars = json.loads(cli("sla", "calendar", "list", "--json").output)
    assert calendars[0]["timezone"] == "America/New_York"
    assert calendars[0]["version"] == 2
    assert json.loads(cli("sla", "policy", "list", "--json").output)[0]["targets"][0]["minutes"] == 30
    (tmp_path / "junk.yaml").write_text("calendars: {")
    assert cli("sla", "import", str(tmp_path / "junk.yaml")).exit_code != 0
    assert cli("sla", "policy", "delete", "Urgent").exit_code == 0
    assert cli("sla", "calendar", "delete", "Office").exit_code == 0


def test_scan_handles_every_batch_of_due_clocks(
    cli: Any, desk: Desk, standard_policies: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = 2
    read = tracking.scan

    def scan_at_most_a_batch(uow: Any, now: Any = None, limit: int = tracking.SCAN_BATCH) -> tuple[int, int, int]:
        return read(uow, now, min(limit, batch))

    monkeypatch.setattr(tracking, "SCAN_BATCH", batch)
    monkeypatch.setattr(tracking, "scan", scan_at_most_a_batch)
    for _ in range(3):
        with desk.action(SYSTEM, source="test") as uow:
            tickets.create_ticket(uow, {"subject": "Printer", "requester": "rita@example.com"})
    past = utcnow() - timedelta(minutes=5)
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.execute(update(SlaClock).values(due_at=past, next_check_at=past))
    with desk.db.reading() as session:
        due = session.scalar(select(func.count()).select_from(SlaClock))
    assert due > 2 * batch
    result = cli("sla", "scan")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"0 warning(s), {due} breach(es) sent."
    with desk.db.reading() as session:
        assert session.scalar(select(func.count()).where(SlaClock.breach_sent_at.is_(None))) == 0
