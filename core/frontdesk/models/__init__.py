"""The core's models; importing this package registers their tables on ``Base.metadata``."""

from frontdesk.models.auth import ApiToken, LoginFailure, TokenScope
from frontdesk.models.automation import (
    AutomationLogEntry,
    Macro,
    Notification,
    NotificationTemplate,
    Rule,
    RuleFiring,
    RuleKind,
)
from frontdesk.models.catalog import CatalogRevision
from frontdesk.models.events import Event, EventFailure, EventState
from frontdesk.models.jobs import JobRecord, JobState, PeriodicRun
from frontdesk.models.people import Group, GroupMembership, Organization, Role, User
from frontdesk.models.plugins import PluginSetting, PluginState
from frontdesk.models.search import SearchDocument
from frontdesk.models.tickets import (
    Attachment,
    Comment,
    HistoryEntry,
    LinkKind,
    Priority,
    Status,
    StatusCategory,
    Tag,
    Ticket,
    TicketLink,
    TicketType,
    ticket_ccs,
    ticket_tags,
)
from frontdesk.models.views import SavedView

__all__ = [
    "ApiToken",
    "Attachment",
    "AutomationLogEntry",
    "CatalogRevision",
    "Comment",
    "Event",
    "EventFailure",
    "EventState",
    "Group",
    "GroupMembership",
    "HistoryEntry",
    "JobRecord",
    "JobState",
    "LinkKind",
    "LoginFailure",
    "Macro",
    "Notification",
    "NotificationTemplate",
    "Organization",
    "PeriodicRun",
    "PluginSetting",
    "PluginState",
    "Priority",
    "Role",
    "Rule",
    "RuleFiring",
    "RuleKind",
    "SavedView",
    "SearchDocument",
    "Status",
    "StatusCategory",
    "Tag",
    "Ticket",
    "TicketLink",
    "TicketType",
    "TokenScope",
    "User",
    "ticket_ccs",
    "ticket_tags",
]
