"""The database layer: SQLite settings and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

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
