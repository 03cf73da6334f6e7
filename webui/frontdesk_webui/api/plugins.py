"""``/api/v1/plugins``: the installed plugins, and enabling or disabling them (admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from frontdesk.errors import NotFound
from frontdesk.models import User
from frontdesk.plugins import PluginInfo, PluginStatus
from frontdesk.services import plugins
from frontdesk_webui.api.auth import require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint("plugins", __name__, url_prefix="/api/v1/plugins", description="Installed plugins (admins).")


class PluginSchema(Schema):
    """An installed plugin as this process runs it."""

    name = fields.String()
    title = fields.String()
    version = fields.String()
    status = fields.String(metadata={"description": "enabled, disabled or failed"})
    error = fields.String(allow_none=True, metadata={"description": "Why the plugin failed, if it did"})
    description = fields.String()
    requires = fields.List(fields.String(), metadata={"description": "Plugins it needs"})
    essential = fields.Boolean(metadata={"description": "The desk cannot run without it: never disabled"})


class PluginChangeSchema(PluginSchema):
    """A plugin after enabling or disabling: ``status`` is what a restarted process will run."""

    restart_required = fields.Boolean(
        metadata={"description": "Always true: running processes keep their plugins until they restart"}
    )


def _admin() -> User:
    """The calling admin: plugins are managed with ``plugins.manage`` and, for tokens, the admin scope."""
    user = require_actor()
    require_scope("admin")
    desk().permissions.require(user, "plugins.manage")
    return user


def _installed(name: str) -> None:
    if name not in desk().plugins.infos:
        raise NotFound(f"no plugin named {name!r} is installed")


def _changed(info: PluginInfo, status: PluginStatus) -> dict[str, Any]:
    return {**info.as_dict(), "status": status.value, "restart_required": True}


@blp.route("")
class Plugins(MethodView):
    @blp.response(200, PluginSchema(many=True))
    def get(self) -> Any:
        """Every installed plugin with its status in this process, by name."""
        _admin()
        infos = desk().plugins.infos
        return [infos[name].as_dict() for name in sorted(infos)]


@blp.route("/<name>/enable")
class Enable(MethodView):
    @blp.response(200, PluginChangeSchema)
    def post(self, name: str) -> Any:
        """Enable a plugin and run its migrations; running processes pick it up when they restart."""
        user = _admin()
        _installed(name)
        info = plugins.enable_plugin(desk(), user, name, source="api")
        return _changed(info, info.status)


@blp.route("/<name>/disable")
class Disable(MethodView):
    @blp.response(200, PluginChangeSchema)
    def post(self, name: str) -> Any:
        """Disable a plugin (its data stays); refused (409) for essential plugins and ones others require."""
        user = _admin()
        _installed(name)
        info = plugins.disable_plugin(desk(), user, name, source="api")
        return _changed(info, PluginStatus.DISABLED)
