"""Fresh, migrated databases for each test, cloned from one template migrated once per run."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk

TEST_DATABASE_URL_ENV = "FRONTDESK_TEST_DATABASE_URL"
_counter = itertools.count()


def server_url() -> str | None:
    """The PostgreSQL server tests run against (its maintenance database), or None for SQLite."""
    return os.environ.get(TEST_DATABASE_URL_ENV) or None


class TemplateDatabase:
    """A database with the core schema, migrated once; each test gets a copy (file copy or PG template)."""

    def __init__(self, workdir: Path) -> None:
        self.server = server_url()
        self.workdir = workdir
        if self.server:
            self.name = f"frontdesk_tpl_{os.getpid()}"
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
            self.url = self._url_for(self.name)
        else:
            self.url = f"sqlite:///{workdir / 'template.db'}"
        desk = Desk(Config(instance_path=workdir, database_url=self.url, strict_plugins=True), plugins=[])
        migrate.upgrade(desk, migrate.lineage(desk, migrate.CORE))
        desk.close()

    def _url_for(self, database: str) -> str:
        assert self.server is not None
        return make_url(self.server).set(database=database).render_as_string(hide_password=False)

    def _execute(self, *statements: str) -> None:
        assert self.server is not None
        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
        engine.dispose()

    @contextmanager
    def empty(self, directory: Path) -> Iterator[str]:
        """A URL of a new database with no tables at all, dropped afterwards."""
        if not self.server:
            directory.mkdir(parents=True, exist_ok=True)
            yield f"sqlite:///{directory / 'empty.db'}"
            return
        name = f"frontdesk_empty_{os.getpid()}_{next(_counter)}"
        self._execute(f'CREATE DATABASE "{name}"')
        try:
            yield self._url_for(name)
        finally:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def copy(self, directory: Path) -> Iterator[str]:
        """A URL of a new database holding the template's schema, dropped afterwards."""
        if not self.server:
            target = directory / "frontdesk.db"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.workdir / "template.db", target)
            yield f"sqlite:///{target}"
            return
        name = f"frontdesk_test_{os.getpid()}_{next(_counter)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        try:
            yield self._url_for(name)
        finally:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop(self) -> None:
        """Remove the template (PostgreSQL; SQLite files go with the temporary folder)."""
        if self.server:
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
