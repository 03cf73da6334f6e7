"""The typed facade through which the core calls plugin hooks (feature code never touches ``pm.hook``)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import pluggy

from frontdesk.plugins.types import NavItem

log = logging.getLogger("frontdesk.plugins")
OnError = Callable[[str, Exception], None]


def _log_failure(hook: str, plugin: str, exc: Exception) -> None:
    log.error("plugin %r failed in %s", plugin, hook, exc_info=exc)


class PluginCalls:
    """Calls hooks in the two ways the core needs: strict (errors propagate) and robust (errors are contained).

    Strict calls serve start-up, decisions, permissions and validation: a failure must stop the action.
    Robust calls serve rendering and notifications: one broken plugin must not take a page down.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        # Plugins an admin disabled while this process runs: robust calls (pages, events) skip them
        # at once; what they registered at start-up (tables, commands, routes) waits for a restart.
        self.muted: frozenset[str] = frozenset()

    def implementations(self, hook: str) -> list[Any]:
        """The hook's implementations in call order, without muted plugins."""
        return [impl for impl in reversed(self._caller(hook).get_hookimpls()) if impl.plugin_name not in self.muted]

    def _caller(self, hook: str) -> pluggy.HookCaller:
        return getattr(self.pm.hook, hook)

    def collect(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a list-returning hook strictly and concatenate the lists, in call order."""
        items: list[Any] = []
        for result in self._caller(hook)(**kwargs):
            items.extend(result or ())
        return items

    def first(self, hook: str, **kwargs: Any) -> Any:
        """Call a ``firstresult`` hook strictly: the first non-None answer, or None."""
        return self._caller(hook)(**kwargs)

    def per_plugin(self, hook: str, **kwargs: Any) -> dict[str, Any]:
        """Call each implementation strictly and map plugin name to its non-None answer."""
        return dict(self._each(hook, kwargs, robust=False))

    def each(self, hook: str, *, on_error: OnError | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call each implementation robustly; return ``(plugin name, answer)`` for the non-None answers.

        A failing implementation is skipped and reported to ``on_error(plugin, exception)``, which by
        default logs it with its traceback.
        """
        return self._each(hook, kwargs, robust=True, on_error=on_error)

    def notify(self, hook: str, **kwargs: Any) -> list[str]:
        """Deliver an event to every implementation robustly; return the names of plugins that failed."""
        failed: list[str] = []

        def record(plugin: str, exc: Exception) -> None:
            _log_failure(hook, plugin, exc)
            failed.append(plugin)

        self._each(hook, kwargs, robust=True, on_error=record)
        return failed

    def nav_items(self, user: Any, can: Callable[[str], bool]) -> list[NavItem]:
        """Navigation entries the user may see, sorted by weight then label."""
        items = [item for _name, result in self.each("frontdesk_nav_items", user=user) for item in result]
        is_staff = bool(user is not None and user.is_staff)
        visible = [
            item
            for item in items
            if (item.permission is None or can(item.permission)) and (is_staff or not item.staff_only)
        ]
        return sorted(visible, key=lambda item: (item.weight, item.label))

    def _each(
        self,
        hook: str,
        kwargs: dict[str, Any],
        *,
        robust: bool,
        on_error: OnError | None = None,
    ) -> list[tuple[str, Any]]:
        results: list[tuple[str, Any]] = []
        for impl in self.implementations(hook) if robust else reversed(self._caller(hook).get_hookimpls()):
            try:
                result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:
                if not robust:
                    raise
                (on_error or functools.partial(_log_failure, hook))(impl.plugin_name, exc)
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results
