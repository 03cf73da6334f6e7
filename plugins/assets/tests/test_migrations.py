"""The plugin's lineage: it matches the models, seeds the built-in types, and downgrades to nothing."""

from __future__ import annotations

from sqlalchemy import inspect

from frontdesk import migrate
from frontdesk.desk import Desk


def test_the_lineage_matches_the_models_and_downgrades_to_base(desk: Desk) -> None:
    lineage = migrate.lineage(desk, "assets")
    assert migrate.is_current(desk, lineage)
    assert migrate.pending_changes(desk, lineage) == []
    migrate.downgrade(desk, lineage, "base")
    assert not [t for t in inspect(desk.db.engine).get_table_names() if t.startswith("assets_")]
    migrate.upgrade(desk, lineage)
    assert "assets_assets" in inspect(desk.db.engine).get_table_names()
