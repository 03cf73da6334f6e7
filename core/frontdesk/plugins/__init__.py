"""The plugin platform: loading plugins, describing them, and calling their hooks."""

from frontdesk.plugins.calls import PluginCalls
from frontdesk.plugins.loader import ENTRY_POINT_GROUP, PluginInfo, Plugins, PluginStatus, load_plugins
from frontdesk.plugins.types import ListColumn, NavItem, RequestField

__all__ = [
    "ENTRY_POINT_GROUP",
    "ListColumn",
    "NavItem",
    "PluginCalls",
    "PluginInfo",
    "PluginStatus",
    "Plugins",
    "RequestField",
    "load_plugins",
]
