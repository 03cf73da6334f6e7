"""Schema migrations: the core's Alembic lineage plus one independent lineage per plugin.

Each lineage has its own version table (``alembic_version`` for the core, ``alembic_version_<name>``
for a plugin), so removing a plugin never blocks a core upgrade, and the core supplies the one
``env.py`` every lineage runs with.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import SAWarning

from frontdesk.db import Base, table_modules
from frontdesk.errors import FrontdeskError, PluginError

if TYPE_CHECKING:
    from frontdesk.desk import Desk

CORE = "core"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Made by hand in migrations because models cannot express them (search index); autogenerate skips them.
UNMODELLED = frozenset({"ix_search_documents_fts", "ix_users_email_lower", "ix_organizations_name_lower"})


def core_tables() -> frozenset[str]:
    """Names of the tables the core's own models map."""
    return frozenset(
        name for name, module in table_modules().items() if module == "frontdesk" or module.startswith("frontdesk.")
    )


@dataclass(frozen=True)
class Lineage:
    """One chain of revisions: the core's or a plugin's."""

    name: str
    versions: Path

    @property
    def version_table(self) -> str:
        return "alembic_version" if self.name == CORE else f"alembic_version_{self.name}"

    def owns(self, table: str) -> bool:
        """Whether the lineage manages this table (core: the core's models; plugin: ``<name>_*``)."""
        if table.startswith("alembic_version"):
            return False
        if self.name == CORE:
            return table in core_tables()
        return table.startswith(f"{self.name}_") and table not in core_tables()


def lineages(desk: Desk) -> list[Lineage]:
    """The core lineage, then one for every enabled plugin that ships migrations, in load order."""
    found = [Lineage(CORE, MIGRATIONS_DIR / "versions")]
    for name, folder in desk.plugins.calls.per_plugin("frontdesk_register_migrations").items():
        found.append(Lineage(name, Path(folder)))
    order = {name: i for i, name in enumerate(desk.plugins.enabled)}
    return sorted(found, key=lambda lineage: -1 if lineage.name == CORE else order.get(lineage.name, 0))


def lineage(desk: Desk, name: str) -> Lineage:
    """The lineage called ``name``; a clear error when no enabled plugin of that name has migrations."""
    for candidate in lineages(desk):
        if candidate.name == name:
            return candidate
    if name in desk.plugins.infos and name not in desk.plugins.enabled:
        raise PluginError(f"plugin {name!r} is {desk.plugins.infos[name].status.value}; enable it first")
    raise FrontdeskError(f"no migrations named {name!r} (the core or an enabled plugin with migrations)")


def _alembic_config(lineage: Lineage, connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(lineage.versions))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["lineage"] = lineage
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connected(desk: Desk, lineage: Lineage) -> Iterator[AlembicConfig]:
    desk.db.create_directory()
    with desk.db.engine.begin() as connection:
        yield _alembic_config(lineage, connection)


def heads(lineage: Lineage) -> tuple[str, ...]:
    """The newest revision(s) the lineage's files define."""
    return tuple(ScriptDirectory.from_config(_alembic_config(lineage)).get_heads())


def current(desk: Desk, lineage: Lineage) -> tuple[str, ...]:
    """The revision(s) the database is at for this lineage (empty before the first upgrade)."""
    if not desk.db.exists():
        return ()
    with desk.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": lineage.version_table})
        return tuple(context.get_current_heads())


def is_current(desk: Desk, lineage: Lineage) -> bool:
    """Whether the database holds every revision of the lineage."""
    return set(current(desk, lineage)) == set(heads(lineage))


def upgrade(desk: Desk, lineage: Lineage, revision: str = "heads") -> None:
    """Apply the lineage's revisions up to ``revision`` in one transaction."""
    with _connected(desk, lineage) as config:
        command.upgrade(config, revision)


def downgrade(desk: Desk, lineage: Lineage, revision: str) -> None:
    """Revert the lineage to ``revision`` (``base`` removes everything it created)."""
    with _connected(desk, lineage) as config:
        command.downgrade(config, revision)


def upgrade_all(desk: Desk) -> list[str]:
    """Upgrade the core, then every enabled plugin; return the names of the lineages that changed."""
    changed = []
    for each in lineages(desk):
        if not is_current(desk, each):
            upgrade(desk, each)
            changed.append(each.name)
    return changed


def history(lineage: Lineage) -> list[Script]:
    """The lineage's revisions, newest first."""
    return list(ScriptDirectory.from_config(_alembic_config(lineage)).walk_revisions())


def revision(desk: Desk, lineage: Lineage, message: str, *, autogenerate: bool) -> Path:
    """Write a new revision file for the lineage (autogenerated from the models when asked)."""
    lineage.versions.mkdir(parents=True, exist_ok=True)
    with _connected(desk, lineage) as config:
        head = heads(lineage)
        script = command.revision(
            config,
            message=message,
            autogenerate=autogenerate,
            head="heads" if head else "base",
            branch_label=None if head or lineage.name == CORE else lineage.name,
            version_path=str(lineage.versions),
        )
    assert isinstance(script, Script)
    return Path(script.path)


def pending_changes(desk: Desk, lineage: Lineage) -> list[tuple[object, ...]]:
    """Differences between the lineage's models and the database (empty when migrations match models)."""
    from alembic.autogenerate import compare_metadata

    with desk.db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect the expression indexes listed in UNMODELLED; they are skipped anyway.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": include_object(lineage),
                "compare_type": True,
                "version_table": lineage.version_table,
            },
        )
        return list(compare_metadata(context, Base.metadata))


def include_object(lineage: Lineage):  # type: ignore[no-untyped-def]
    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        if name in UNMODELLED:
            return False
        if type_ == "table":
            return name is not None and lineage.owns(name)
        table = getattr(obj, "table", None)
        return table is None or lineage.owns(table.name)

    return include
