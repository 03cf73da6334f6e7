"""Enabling, disabling and configuring plugins.

Enabling is two steps: the decision is committed, then a fresh plugin manager loads the plugin
(checking its requirements) and its migrations run. If either step fails the decision is
reverted, so a plugin is never left enabled without its tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import marshmallow
from sqlalchemy import select

from frontdesk import migrate
from frontdesk.errors import PluginError, ValidationError
from frontdesk.models import PluginSetting, PluginState, User
from frontdesk.plugins import PluginInfo, PluginStatus
from frontdesk.schemas import load
from frontdesk.uow import UnitOfWork

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.permissions import Actor


def record_decision(uow: UnitOfWork, name: str, enabled: bool) -> None:
    """Store whether plugin ``name`` is enabled; takes effect when a desk next loads its plugins."""
    uow.require("plugins.manage")
    uow.desk.plugins.get(name)
    state = uow.session.get(PluginState, name) or PluginState(name=name)
    state.enabled = enabled
    state.changed_by_id = uow.actor.id if isinstance(uow.actor, User) else None
    uow.session.add(state)


def enable_plugin(desk: Desk, actor: Actor, name: str, *, source: str = "cli") -> PluginInfo:
    """Enable an installed plugin and run its migrations; return its info as a fresh desk sees it."""
    info = desk.plugins.get(name)
    if info.status is PluginStatus.ENABLED and name not in desk.plugins.calls.muted:
        raise PluginError(f"plugin {name!r} is already enabled")
    with desk.action(actor, source=source) as uow:
        record_decision(uow, name, True)
    try:
        with desk.reload() as fresh:
            fresh_info = fresh.plugins.get(name)
            if fresh_info.status is not PluginStatus.ENABLED:
                raise PluginError(f"plugin {name!r} cannot be enabled: {fresh_info.error}")
            for lineage in migrate.lineages(fresh):
                if lineage.name == name:
                    migrate.upgrade(fresh, lineage)
    except Exception:
        with desk.action(actor, source=source) as uow:
            record_decision(uow, name, False)
        raise
    desk.refresh_plugin_state()
    return fresh_info


def disable_plugin(desk: Desk, actor: Actor, name: str, *, source: str = "cli") -> PluginInfo:
    """Disable a plugin (its data stays); refused for essential plugins and ones others require."""
    info = desk.plugins.get(name)
    if info.status is PluginStatus.DISABLED or name in desk.plugins.calls.muted:
        raise PluginError(f"plugin {name!r} is already disabled")
    if info.essential:
        raise PluginError(f"plugin {name!r} is essential to the desk and cannot be disabled")
    dependents = [other for other in desk.plugins.enabled if name in desk.plugins.infos[other].requires]
    if dependents:
        raise PluginError(f"plugin {name!r} is required by {', '.join(dependents)}; disable those first")
    with desk.action(actor, source=source) as uow:
        record_decision(uow, name, False)
    desk.refresh_plugin_state()
    return info


def settings_schema(desk: Desk, name: str) -> marshmallow.Schema | None:
    """The plugin's settings schema, or None when it has no settings; the plugin must be enabled."""
    info = desk.plugins.get(name)
    if info.status is not PluginStatus.ENABLED:
        raise PluginError(f"plugin {name!r} is {info.status.value}; its settings are available when enabled")
    schema_class = desk.plugins.calls.per_plugin("frontdesk_register_settings").get(name)
    return schema_class(unknown=marshmallow.EXCLUDE) if schema_class else None


def get_settings(uow: UnitOfWork, name: str) -> dict[str, Any]:
    """The plugin's effective settings: stored values over the schema's defaults."""
    schema = settings_schema(uow.desk, name)
    if schema is None:
        return {}
    stored = {row.key: row.value for row in uow.session.scalars(select(PluginSetting).filter_by(plugin=name))}
    return load(schema, stored)


def set_setting(uow: UnitOfWork, name: str, key: str, value: Any) -> Any:
    """Validate and store one setting; return the value as the plugin will read it."""
    uow.require("plugins.manage")
    schema = settings_schema(uow.desk, name)
    if schema is None or key not in schema.fields:
        known = ", ".join(sorted(schema.fields)) if schema else "none"
        raise ValidationError({key: [f"plugin {name!r} has no setting {key!r} (settings: {known})"]})
    loaded = load(schema, {key: value}, partial=True)
    stored = schema.dump(loaded)[key]
    row = uow.session.get(PluginSetting, (name, key)) or PluginSetting(plugin=name, key=key)
    row.value = stored
    uow.session.add(row)
    return loaded[key]
