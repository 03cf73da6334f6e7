"""Database engine, session factory and the declarative base every model (core and plugin) builds on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names: SQLite batch migrations and cross-database diffs depend on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base: plugin models subclass it too, so they share metadata and naming."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always returned timezone-aware (SQLite keeps no offsets)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# Ids are 32-bit integer columns: a larger number names nothing (and PostgreSQL would refuse it).
MAX_ID = 2**31 - 1
# How long a SQLite writer waits for the write lock before "database is locked".
SQLITE_BUSY_SECONDS = 10


def table_modules() -> dict[str, str]:
    """Each mapped table (association tables included) with the module of the model that maps it."""
    owners: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        owners.setdefault(mapper.local_table.name, module)
        for relationship in mapper.relationships:
            if relationship.secondary is not None:
                owners.setdefault(relationship.secondary.name, module)
    return owners


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout, and its folder is created."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself so transactions behave as on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        # A commit is on disk before it returns, as on PostgreSQL: a ticket, a reply or a mail the
        # desk acknowledged survives a power cut (NORMAL could lose the last commits; ~0.3 ms each here).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # Writers take the write lock up front; a deferred upgrade would fail with "database is locked".
        write = connection.get_execution_options().get("frontdesk_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """An engine plus its session factory; ``transaction()`` is the one way services get a session."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine.execution_options(frontdesk_write=True), expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = threading.RLock()
        self._tables_seen: set[str] = set()

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back when it raises.

        On SQLite the threads of one process take turns to write: waiting for SQLite's own lock
        means sleeping in growing steps of up to 100 ms, which under a few concurrent writers (a
        busy web server) cost more time than the writes and seconds of latency at the tail. Past
        the busy timeout the turn is not waited for, and SQLite's lock decides as before.
        """
        turn = self.backend == "sqlite" and self._writers.acquire(timeout=SQLITE_BUSY_SECONDS)
        try:
            with self.sessionmaker() as session, session.begin():
                yield session
        finally:
            if turn:
                self._writers.release()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it does not take the write lock."""
        with self.read_sessionmaker() as session, session.begin():
            yield session

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite URL, else None."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database)
        return None

    def exists(self) -> bool:
        """False only for a SQLite file not created yet (so read-only commands create nothing)."""
        return self.sqlite_path is None or self.sqlite_path.exists()

    def create_directory(self) -> None:
        """Create the folder of a SQLite database file."""
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)

    def has_table(self, name: str) -> bool:
        """Whether the table exists (used before the schema is created, e.g. for plugin state).

        A table once found is remembered: the desk's tables are not dropped under a running
        process, and checks repeated every second would each cost a catalog query.
        """
        if name not in self._tables_seen and inspect(self.engine).has_table(name):
            self._tables_seen.add(name)
        return name in self._tables_seen

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
