"""Migrations: the core lineage on an empty database, plugin lineages beside it, models matching revisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.testing.databases import TemplateDatabase


@pytest.fixture
def empty_desk(frontdesk_template_db: TemplateDatabase, tmp_path: Path) -> Desk:
    with frontdesk_template_db.empty(tmp_path / "empty") as url:
        desk = Desk(Config(instance_path=tmp_path, database_url=url, strict_plugins=True), plugins=["webui"])
        yield desk
        desk.close()


def test_core_upgrades_an_empty_database_and_matches_the_models(empty_desk: Desk) -> None:
    core = migrate.lineage(empty_desk, migrate.CORE)
    assert migrate.current(empty_desk, core) == ()
    assert migrate.upgrade_all(empty_desk) == ["core"]
    assert migrate.is_current(empty_desk, core)
    tables = set(inspect(empty_desk.db.engine).get_table_names())
    assert {"users", "groups", "group_members", "organizations", "plugin_states", "plugin_settings"} <= tables
    assert migrate.pending_changes(empty_desk, core) == []
    assert migrate.upgrade_all(empty_desk) == []


def test_hook_frontdesk_register_migrations_gives_a_plugin_its_own_lineage(
    with_hello: Path, desk_config: Config, request: pytest.FixtureRequest
) -> None:
    desk = Desk(desk_config, plugins=["webui", "hello"])
    request.addfinalizer(desk.close)
    hello = migrate.lineage(desk, "hello")
    assert hello.version_table == "alembic_version_hello"
    assert [lineage.name for lineage in migrate.lineages(desk)] == ["core", "hello"]
    assert migrate.upgrade_all(desk) == ["hello"]
    names = set(inspect(desk.db.engine).get_table_names())
    assert {"hello_greetings", "alembic_version_hello", "alembic_version"} <= names
    assert migrate.pending_changes(desk, hello) == []
    assert migrate.pending_changes(desk, migrate.lineage(desk, migrate.CORE)) == []
    assert [script.revision for script in migrate.history(hello)] == ["0001"]

    migrate.downgrade(desk, hello, "base")
    names = set(inspect(desk.db.engine).get_table_names())
    assert "hello_greetings" not in names
    assert migrate.is_current(desk, migrate.lineage(desk, migrate.CORE))


def test_unknown_lineages_are_named_in_the_error(desk: Desk) -> None:
    with pytest.raises(Exception, match="no migrations named 'nope'"):
        migrate.lineage(desk, "nope")


def test_revision_writes_a_file_for_a_plugin_lineage(desk: Desk, tmp_path: Path) -> None:
    lineage = migrate.Lineage("scratch", tmp_path / "versions")
    path = migrate.revision(desk, lineage, "first", autogenerate=False)
    assert path.parent == tmp_path / "versions"
    assert "branch_labels: str | Sequence[str] | None = ('scratch',)" in path.read_text()
