"""Discovering, importing, ordering and registering plugins into the desk's one pluggy manager."""

from __future__ import annotations

import graphlib
import logging
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from frontdesk import hookspecs
from frontdesk.db import table_modules
from frontdesk.errors import PluginError
from frontdesk.plugins.calls import PluginCalls

ENTRY_POINT_GROUP = "frontdesk"
log = logging.getLogger("frontdesk.plugins")


class PluginStatus(StrEnum):
    """Where a plugin stands in this process."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"


@dataclass
class PluginInfo:
    """What the desk knows about one installed plugin, whether or not it is loaded."""

    name: str
    status: PluginStatus
    title: str = ""
    description: str = ""
    version: str = ""
    distribution: str | None = None
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    essential: bool = False
    error: str | None = None
    module: Any = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for ``plugins list --json``, the API and the admin console)."""
        return {
            "name": self.name,
            "title": self.title or self.name,
            "description": self.description,
            "version": self.version,
            "distribution": self.distribution,
            "status": self.status.value,
            "requires": list(self.requires),
            "optional": list(self.optional),
            "essential": self.essential,
            "error": self.error,
        }


@dataclass
class _Candidate:
    name: str
    load: Callable[[], Any]
    entry_point: EntryPoint | None = None


def _describe(info: PluginInfo, module: Any) -> None:
    """Fill ``info`` from the plugin module's metadata attributes (TITLE, DESCRIPTION, REQUIRES, ...)."""
    doc = (getattr(module, "__doc__", None) or "").strip().splitlines()
    info.title = getattr(module, "TITLE", None) or info.title or info.name
    info.description = getattr(module, "DESCRIPTION", None) or (doc[0] if doc else "")
    info.version = getattr(module, "VERSION", None) or info.version
    info.requires = tuple(getattr(module, "REQUIRES", ()))
    info.optional = tuple(getattr(module, "OPTIONAL", ()))
    info.essential = bool(getattr(module, "ESSENTIAL", False))
    info.module = module


def _package_of(plugin: Any) -> str:
    module_name = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    return module_name.split(".")[0]


def misnamed_tables(name: str, plugin: Any) -> list[str]:
    """Tables mapped by the plugin's package whose names do not start with ``<name>_``."""
    package = _package_of(plugin)
    if package == "frontdesk":
        return []
    return sorted(
        table
        for table, module in table_modules().items()
        if module.split(".")[0] == package and not table.startswith(f"{name}_")
    )


def installed_entry_points() -> dict[str, EntryPoint]:
    """Entry points of the ``frontdesk`` group by name (the first distribution wins a name clash)."""
    found: dict[str, EntryPoint] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        found.setdefault(ep.name, ep)
    return found


def _entry_point_info(ep: EntryPoint, status: PluginStatus) -> PluginInfo:
    dist = ep.dist
    return PluginInfo(
        name=ep.name,
        status=status,
        title=ep.name,
        version=dist.version if dist else "",
        distribution=dist.metadata["Name"] if dist else None,
    )


class Plugins:
    """The desk's plugin manager, what it knows about every installed plugin, and the call facade."""

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo], strict: bool) -> None:
        self.pm = pm
        self.infos = infos
        self.strict = strict
        self.calls = PluginCalls(pm)
        self._load_order: list[str] = []

    @property
    def enabled(self) -> list[str]:
        """Names of the plugins registered in this process, in load order (requirements first)."""
        return [name for name in self._load_order if self.infos[name].status is PluginStatus.ENABLED]

    def get(self, name: str) -> PluginInfo:
        """The info of one installed plugin; :class:`PluginError` when no such plugin is installed."""
        try:
            return self.infos[name]
        except KeyError:
            raise PluginError(f"no plugin named {name!r} is installed") from None

    def fail(self, name: str, error: BaseException | str) -> None:
        """Record a plugin as failed, unregister it, and do the same to the plugins that require it."""
        text = error if isinstance(error, str) else "".join(traceback.format_exception_only(error)).strip()
        if self.strict:
            if isinstance(error, BaseException):
                raise PluginError(f"plugin {name!r} failed: {text}") from error
            raise PluginError(f"plugin {name!r} failed: {text}")
        log.error("plugin %r failed and is left out: %s", name, text)
        info = self.infos[name]
        info.status, info.error = PluginStatus.FAILED, text
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        for other in list(self.enabled):
            if name in self.infos[other].requires:
                self.fail(other, f"requires {name!r}, which failed")

    def start(self, desk: Any) -> None:
        """Run every enabled plugin's start-up hook; a plugin that raises is failed and left out."""
        for impl in reversed(self.pm.hook.frontdesk_startup.get_hookimpls()):
            if self.pm.get_plugin(impl.plugin_name) is None:
                continue
            try:
                impl.function(**{arg: {"desk": desk}[arg] for arg in impl.argnames})
            except Exception as exc:
                self.fail(impl.plugin_name, exc)

    def add(self, name: str, plugin: Any) -> PluginInfo:
        """Register one more plugin object in the running manager (tests), with the load-time checks."""
        if name in self.infos:
            raise PluginError(f"two plugins are named {name!r}")
        info = self.infos[name] = PluginInfo(name, PluginStatus.ENABLED)
        _describe(info, plugin)
        self._register(name)
        self._check_hooks(name)
        return info

    def remove(self, name: str) -> None:
        """Unregister a plugin added with :meth:`add` and forget it."""
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.infos.pop(name, None)
        if name in self._load_order:
            self._load_order.remove(name)

    def _register(self, name: str) -> None:
        info = self.infos[name]
        missing = [req for req in info.requires if self.pm.get_plugin(req) is None]
        if missing:
            states = ", ".join(
                f"{req!r} ({self.infos[req].status.value if req in self.infos else 'not installed'})" for req in missing
            )
            self.fail(name, f"requires {states}")
            return
        bad_tables = misnamed_tables(name, info.module)
        if bad_tables:
            self.fail(name, f"tables must be prefixed {name + '_'!r}: {', '.join(bad_tables)}")
            return
        try:
            self.pm.register(info.module, name=name)
        except Exception as exc:
            self.fail(name, exc)
        else:
            self._load_order.append(name)

    def _check_hooks(self, name: str) -> None:
        if name in self.enabled and (unknown := self._unknown_hooks(name)):
            self.fail(name, f"implements unknown hooks (misspelt?): {', '.join(unknown)}")

    def _unknown_hooks(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        unknown = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin_name == name]
            if not caller.has_spec() and not any(impl.optionalhook for impl in impls):
                unknown.append(caller.name)
        return unknown


def load_plugins(
    *,
    enabled: Mapping[str, bool],
    strict: bool = False,
    only: Iterable[str] | None = None,
    blocked: Iterable[str] = (),
    explicit: Sequence[str | Any] | None = None,
) -> Plugins:
    """Build the plugin manager: discover, skip disabled plugins unimported, import, order, register.

    :param enabled: the admin's decisions by plugin name; a plugin without one is enabled.
    :param strict: raise on the first failure instead of recording it (tests, ``FRONTDESK_STRICT_PLUGINS``).
    :param only: an allow-list of entry-point names, or None for every installed plugin.
    :param blocked: names to keep out of this process whatever the database says.
    :param explicit: load exactly these: entry-point names or plugin objects (modules, instances);
        entry points are then not discovered (tests use this so stray installs cannot leak in).
    """
    pm = pluggy.PluginManager("frontdesk")
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    plugins = Plugins(pm, infos, strict)
    blocked = set(blocked)

    for candidate in _candidates(explicit, only):
        if candidate.name in infos:
            raise PluginError(f"two plugins are named {candidate.name!r}")
        ep = candidate.entry_point
        info = _entry_point_info(ep, PluginStatus.ENABLED) if ep else PluginInfo(candidate.name, PluginStatus.ENABLED)
        infos[candidate.name] = info
        if not enabled.get(candidate.name, True) or candidate.name in blocked:
            info.status = PluginStatus.DISABLED
            pm.set_blocked(candidate.name)
            continue
        try:
            _describe(info, candidate.load())
        except Exception as exc:
            plugins.fail(candidate.name, exc)

    pm.hook.frontdesk_add_hookspecs.call_historic(kwargs={"pm": pm})
    for name in _dependency_order(plugins):
        plugins._register(name)
    for name in list(plugins.enabled):
        plugins._check_hooks(name)
    return plugins


def _candidates(explicit: Sequence[str | Any] | None, only: Iterable[str] | None) -> list[_Candidate]:
    installed = installed_entry_points()
    if explicit is None:
        allowed = None if only is None else set(only)
        return [_Candidate(name, ep.load, ep) for name, ep in installed.items() if allowed is None or name in allowed]
    candidates = []
    for item in explicit:
        if isinstance(item, str):
            if item not in installed:
                raise PluginError(f"no plugin named {item!r} is installed")
            ep = installed[item]
            candidates.append(_Candidate(item, ep.load, ep))
        else:
            name = getattr(item, "NAME", None) or getattr(item, "__name__", type(item).__name__).rsplit(".", 1)[-1]
            candidates.append(_Candidate(name, lambda item=item: item))
    return candidates


def _dependency_order(plugins: Plugins) -> list[str]:
    """Enabled plugins with each after what it requires or optionally integrates with; cycles fail."""
    names = [name for name, info in plugins.infos.items() if info.status is PluginStatus.ENABLED]
    graph = {
        name: {dep for dep in (*plugins.infos[name].requires, *plugins.infos[name].optional) if dep in names}
        for name in names
    }
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        for name in set(cycle):
            plugins.fail(name, f"dependency cycle: {' -> '.join(cycle)}")
        return _dependency_order(plugins)
