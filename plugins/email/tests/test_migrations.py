"""The plugin's lineage builds exactly the tables its models describe, and downgrades to nothing."""

from __future__ import annotations

from sqlalchemy import inspect

from frontdesk import migrate
from frontdesk.desk import Desk


def test_migrations_match_the_models_and_downgrade_cleanly(desk: Desk) -> None:
    lineage = migrate.lineage(desk, "email")
    assert migrate.pending_changes(desk, lineage) == []
    migrate.downgrade(desk, lineage, "base")
    assert not [t for t in inspect(desk.db.engine).get_table_names() if t.startswith("email_")]
    migrate.upgrade(desk, lineage)
    assert migrate.is_current(desk, lineage)
