"""The ticket catalog in memory: statuses, priorities, types and groups, looked up without a query.

Nearly every ticket action looks up a status, a priority or a group by name. The desk keeps one
snapshot of those (small) tables per process, tagged with the token of ``catalog_revision`` it was
read under; database triggers give that row a new random token on every change of those tables
(by any process; a rolled-back change's token never comes back). An action reads the token once
(one primary-key read) and uses the snapshot only when the token matches, so it never sees an older
catalog than a query would. Found rows are merged into the action's session without a query.

Look-ups return None whenever the cache cannot answer for certain (unknown name, catalog changes
pending in the session itself): callers then query as before, which also words the error.
"""

from __future__ import annotations

import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from frontdesk.models import Group, Priority, Status, TicketType

CATALOG_MODELS = (Status, Priority, TicketType, Group)
CATALOG_TABLES = frozenset(model.__tablename__ for model in CATALOG_MODELS)
_REVISION_QUERY = "SELECT token FROM catalog_revision WHERE id = 1"  # the row of models.CatalogRevision
_SNAPSHOT = "frontdesk.catalog"  # session.info key: the snapshot this session's transaction validated
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

Entry = TypeVar("Entry", Status, Priority, TicketType, Group)


@dataclass(frozen=True)
class Snapshot:
    """The catalog as read under one token: detached rows indexed the way services look them up."""

    token: int
    statuses: dict[str, Status]
    default_status: dict[str, Status]  # category -> the status new moves into that category use
    priorities: dict[str, Priority]
    default_priority: Priority | None
    types: dict[str, TicketType]
    groups: dict[str, Group]


class CatalogCache:
    """One desk's catalog snapshot, shared by its threads; see the module docstring.

    :param lower: how the database's ``lower()`` folds names (SQLite folds ASCII letters only), so a
        cached look-up finds exactly the row ``lower(name) = :name`` would.
    """

    def __init__(self, lower: Callable[[str], str]) -> None:
        self._lower = lower
        self._shared: Snapshot | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_backend(cls, backend: str) -> CatalogCache:
        """The cache for a ``sqlite`` or ``postgresql`` database."""
        return cls(_ascii_lower if backend == "sqlite" else str.lower)

    def watch(self, *factories: Any) -> None:
        """Make sessions of these factories forget their validated snapshot when the token may change.

        That is when the session writes catalog rows itself (or runs a statement whose table is
        unknown, such as raw SQL), when its transaction ends and when a savepoint rolls back.
        """
        for factory in factories:
            event.listen(factory, "after_flush", _forget_after_flush)
            event.listen(factory, "do_orm_execute", _forget_on_write)
            event.listen(factory, "after_commit", _forget_after_commit)
            event.listen(factory, "after_rollback", _forget)

    # Look-ups: a row merged into ``session``, or None when the cache cannot answer.

    def status_named(self, session: Session, name: str) -> Status | None:
        """The status whose name is ``name`` in any case."""
        snapshot = self.snapshot(session)
        return _merged(session, snapshot and snapshot.statuses.get(name.strip().lower()))

    def status_in(self, session: Session, category: str) -> Status | None:
        """The default status of a category."""
        snapshot = self.snapshot(session)
        return _merged(session, snapshot and snapshot.default_status.get(category))

    def priority_named(self, session: Session, name: str | None) -> Priority | None:
        """The priority called ``name``, or the default priority for None."""
        snapshot = self.snapshot(session)
        if snapshot is None:
            return None
        found = snapshot.default_priority if name is None else snapshot.priorities.get(name.strip().lower())
        return _merged(session, found)

    def type_named(self, session: Session, name: str) -> TicketType | None:
        """The ticket type called ``name``."""
        snapshot = self.snapshot(session)
        return _merged(session, snapshot and snapshot.types.get(name.strip().lower()))

    def group_named(self, session: Session, name: str) -> Group | None:
        """The group called ``name``."""
        snapshot = self.snapshot(session)
        return _merged(session, snapshot and snapshot.groups.get(name.strip().lower()))

    def snapshot(self, session: Session) -> Snapshot | None:
        """The snapshot valid in this session's transaction, or None while it has unflushed catalog changes."""
        if _pending_catalog_changes(session):
            return None
        found: Snapshot | None = session.info.get(_SNAPSHOT)
        if found is not None:
            return found
        connection = session.connection()
        token = connection.exec_driver_sql(_REVISION_QUERY).scalar()  # plain SQL: a fifth of a Core select's cost
        if token is None:
            return None
        shared = self._shared
        if shared is None or shared.token != token:
            shared = self._read(connection, token)
            with self._lock:
                self._shared = shared
        session.info[_SNAPSHOT] = shared
        return shared

    def _read(self, connection: Any, token: int) -> Snapshot:
        lower = self._lower
        statuses = _detached(Status, connection.execute(select(Status.__table__).order_by(Status.id)))
        priorities = _detached(Priority, connection.execute(select(Priority.__table__).order_by(Priority.id)))
        types = _detached(TicketType, connection.execute(select(TicketType.__table__).order_by(TicketType.id)))
        groups = _detached(Group, connection.execute(select(Group.__table__).order_by(Group.id)))
        default_status: dict[str, Status] = {}
        for status in sorted(statuses, key=lambda s: (not s.is_default, s.position, s.id)):
            default_status.setdefault(status.category, status)
        ranked = sorted(priorities, key=lambda p: (not p.is_default, p.rank, p.id))
        return Snapshot(
            token=token,
            statuses=_by_name(statuses, lower),
            default_status=default_status,
            priorities=_by_name(priorities, lower),
            default_priority=ranked[0] if ranked else None,
            types=_by_name(types, lower),
            groups=_by_name(groups, lower),
        )


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _detached(model: type[Entry], rows: Iterable[Any]) -> list[Entry]:
    """Rows as detached instances (with their identity), ready for ``Session.merge(load=False)``."""
    entries = []
    for row in rows:
        entry = model(**row._mapping)
        make_transient_to_detached(entry)
        entries.append(entry)
    return entries


def _by_name(entries: list[Entry], lower: Callable[[str], str]) -> dict[str, Entry]:
    indexed: dict[str, Entry] = {}
    for entry in entries:  # by id: with two names folding alike, the older row wins
        indexed.setdefault(lower(entry.name), entry)
    return indexed


def _merged(session: Session, entry: Entry | None) -> Entry | None:
    """``entry`` as an instance of ``session``: the session's own one if it has it, else a copy without a query."""
    if entry is None:
        return None
    own = session.identity_map.get(inspect(entry).key)
    return own if own is not None else session.merge(entry, load=False)


def _pending_catalog_changes(session: Session) -> bool:
    return any(isinstance(obj, CATALOG_MODELS) for obj in (*session.new, *session.dirty, *session.deleted))


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_SNAPSHOT, None)


def _forget_after_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a released savepoint leaves the transaction, and its token, as is
        _forget(session)


def _forget_after_flush(session: Session, _context: Any) -> None:
    if _pending_catalog_changes(session):  # still the flushed objects while "after_flush" runs
        _forget(session)


def _forget_on_write(state: Any) -> None:
    if state.is_select:
        return
    written = getattr(getattr(state.statement, "table", None), "name", None)
    if written is None or written in CATALOG_TABLES:  # raw SQL may write anything
        _forget(state.session)
