"""The plugin's own lineage: it matches the models, and downgrades to nothing."""

from __future__ import annotations

from sqlalchemy import inspect

from frontdesk import migrate
from frontdesk.desk import Desk


def test_lineage_matches_the_models_and_downgrades_to_base(desk: Desk) -> None:
    sla = migrate.lineage(desk, "sla")
    assert sla.version_table == "alembic_version_sla"
    assert migrate.pending_changes(desk, sla) == []
    assert {"sla_calendars", "sla_policies", "sla_clocks"} <= set(inspect(desk.db.engine).get_table_names())
    migrate.downgrade(desk, sla, "base")
    assert not {"sla_calendars", "sla_policies", "sla_clocks"} & set(inspect(desk.db.engine).get_table_names())
    assert migrate.upgrade_all(desk) == ["sla"]
