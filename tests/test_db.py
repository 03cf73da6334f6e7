"""The database layer: SQLite settings and timestamps."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, text

from frontdesk.desk import Desk
from frontdesk.models import Group
from frontdesk.permissions import SYSTEM


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(desk: Desk) -> None:
    with desk.db.reading() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_timestamps_come_back_aware_in_utc(desk: Desk) -> None:
    created = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.add(Group(name="Support", created_at=created))
    with desk.db.reading() as session:
        stored = session.query(Group).one().created_at
    assert stored == created
    assert stored.tzinfo is UTC


def test_naive_timestamps_are_refused(desk: Desk) -> None:
    with pytest.raises(Exception, match="naive datetime"), desk.action(SYSTEM, source="test") as uow:
        uow.session.add(Group(name="Support", created_at=datetime(2026, 1, 1)))
        uow.session.flush()


@pytest.mark.sqlite_only
def test_sqlite_writers_of_one_process_take_turns_before_begin(desk: Desk) -> None:
    """A second writer waits for its turn in the process, never in SQLite's sleeping busy handler.

    SQLite is told not to wait at all: a writer reaching its lock while another holds it would fail.
    """

    @event.listens_for(desk.db.engine, "connect")
    def _no_waiting(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    desk.db.engine.dispose()
    first_inside = threading.Event()
    failures: list[BaseException] = []

    def write(name: str, hold: float) -> None:
        try:
            with desk.action(SYSTEM, source="test") as uow:
                uow.session.add(Group(name=name, created_at=datetime.now(UTC)))
                uow.session.flush()
                first_inside.set()
                time.sleep(hold)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=("First", 0.3))]
    threads[0].start()
    assert first_inside.wait(10)
    threads += [threading.Thread(target=write, args=(f"Next {i}", 0)) for i in range(3)]
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == []
    with desk.db.reading() as session:
        assert session.query(Group).count() == 4


def test_a_table_once_found_is_not_looked_for_again(desk: Desk) -> None:
    """Plugin state and the rule cache ask every second; only the first answer costs a catalog query."""
    statements: list[str] = []

    @event.listens_for(desk.db.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    assert desk.db.has_table("tickets")
    asked = len(statements)
    assert desk.db.has_table("tickets")
    assert len(statements) == asked
    assert not desk.db.has_table("no_such_table")
    assert not desk.db.has_table("no_such_table")
    assert len(statements) > asked, "a missing table is looked for each time (it may be created meanwhile)"
