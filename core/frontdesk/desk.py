"""The desk: configuration, database and plugins of one running process, and the door to its services."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect, select

from frontdesk.automation import AUTOMATION_JOBS, Automation
from frontdesk.catalog_cache import CatalogCache
from frontdesk.config import Config
from frontdesk.db import Database
from frontdesk.events import Dispatcher
from frontdesk.jobs import CORE_JOBS, Jobs
from frontdesk.models import EventState, PluginState, User
from frontdesk.permissions import Actor, PermissionRegistry
from frontdesk.plugins import Plugins, load_plugins
from frontdesk.storage import AttachmentStorage, FilesystemStorage
from frontdesk.uow import UnitOfWork


class Desk:
    """One per process (or per test): owns the database handle and the plugin manager.

    :param plugins: load exactly these (entry-point names or plugin objects) instead of every
        installed plugin; tests use it so that nothing installed by accident leaks in.
    """

    def __init__(self, config: Config, *, plugins: Sequence[str | Any] | None = None) -> None:
        self.config = config
        self._explicit_plugins = plugins
        self.db = Database(config.database_url)
        self.catalog = CatalogCache.for_backend(self.db.backend)
        self.catalog.watch(self.db.sessionmaker, self.db.read_sessionmaker)
        self.storage: AttachmentStorage = FilesystemStorage(config.attachments_root)
        self.dispatcher = Dispatcher(self)
        try:
            self.plugins: Plugins = load_plugins(
                enabled=self._plugin_decisions(),
                strict=config.strict_plugins,
                only=config.load_plugins,
                blocked=config.disable_plugins,
                explicit=plugins,
            )
            self.plugins.start(self)
            self.permissions = PermissionRegistry(self.plugins.calls.collect("frontdesk_register_permissions"))
            self.automation = Automation(self)
            self.jobs = Jobs(self)
            self.jobs.register([*CORE_JOBS, *AUTOMATION_JOBS, *self.plugins.calls.collect("frontdesk_register_jobs")])
        except BaseException:
            self.db.dispose()
            raise

    def reload(self) -> Desk:
        """A new desk with the same configuration, seeing the plugin decisions stored since this one started."""
        return Desk(self.config, plugins=self._explicit_plugins)

    def refresh_plugin_state(self) -> None:
        """Apply plugin decisions stored since start-up as far as a running process can: mute disabled plugins.

        A plugin enabled after start-up only loads at the next restart; one disabled stops taking
        part in pages, API output and events at once, and takes part again when re-enabled.
        """
        decisions = self._plugin_decisions()
        self.plugins.calls.muted = frozenset(name for name in self.plugins.enabled if not decisions.get(name, True))

    def _plugin_decisions(self) -> dict[str, bool]:
        if not self.db.exists() or not self.db.has_table(PluginState.__tablename__):
            return {}
        with self.db.reading() as session:
            return {row.name: row.enabled for row in session.scalars(select(PluginState))}

    @contextmanager
    def action(
        self, actor: Actor, *, source: str, chain: dict[str, Any] | None = None, deliver: bool = True
    ) -> Iterator[UnitOfWork]:
        """One service action: a unit of work in one transaction, committed when the block ends.

        :param actor: who acts (a user, or ``SYSTEM`` for the operator's CLI and jobs).
        :param source: the entry point, recorded in audit history (``web``, ``api``, ``cli``, ``mail``...).
        :param chain: set by automation: the rule chain the events of this action continue.
        :param deliver: queue the delivery of this action's events after commit; the dispatcher turns
            it off for the actions of triggers it runs, because it goes on with those events itself.
        """
        with self.db.transaction() as session:
            # The service works on this session's own copy of the user, so a rolled-back action
            # never leaves the caller's object (e.g. the web request's current user) unusable.
            if isinstance(actor, User) and (state := inspect(actor)).detached and not state.modified:
                actor = session.merge(actor, load=False)
            uow = UnitOfWork(desk=self, session=session, actor=actor, source=source, chain=chain)
            yield uow
        if uow.queued:
            self.jobs.send([(record.id, delay) for record, delay in uow.queued])
        pending = [event.id for event in uow.emitted if event.state == EventState.PENDING]
        if pending and deliver:
            self.jobs.deliver_events(pending)

    @contextmanager
    def reading(self, actor: Actor | None) -> Iterator[UnitOfWork]:
        """A read-only unit of work for queries that enforce the actor's permissions."""
        with self.db.reading() as session:
            yield UnitOfWork(desk=self, session=session, actor=actor, source="read")

    def close(self) -> None:
        """Release database and queue connections."""
        self.jobs.close()
        self.db.dispose()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
