"""The core's models; importing this package registers their tables on ``Base.metadata``."""

from frontdesk.models.people import Group, GroupMembership, Organization, Role, User
from frontdesk.models.plugins import PluginSetting, PluginState

__all__ = ["Group", "GroupMembership", "Organization", "PluginSetting", "PluginState", "Role", "User"]
