"""Named permissions, who holds them, and the one check every service uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from frontdesk.errors import PermissionDenied
from frontdesk.models import Role, User


@dataclass(frozen=True)
class Permission:
    """A named right, e.g. ``plugins.manage``; ``roles`` hold it (admins hold every permission)."""

    name: str
    description: str
    roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class SystemActor:
    """The desk acting on its own behalf: the CLI run by the operator, jobs, migrations."""

    id: None = None
    name: str = "system"
    email: str = "system"
    role: str = Role.ADMIN.value
    is_admin: bool = True
    is_staff: bool = True


SYSTEM = SystemActor()

Actor = User | SystemActor

CORE_PERMISSIONS = (
    Permission("automation.manage", "Create and change automation rules, shared macros and notification texts"),
    Permission("desk.configure", "Change desk-wide settings"),
    Permission("people.manage", "Create and change users, organizations and groups"),
    Permission("plugins.manage", "Enable, disable and configure plugins"),
    Permission(
        "tickets.work",
        "Change ticket fields, add internal notes, link and merge tickets",
        frozenset({Role.AGENT.value}),
    ),
)


class PermissionRegistry:
    """Every permission known to this desk: the core's and those the enabled plugins register."""

    def __init__(self, permissions: Iterable[Permission] = ()) -> None:
        self._permissions: dict[str, Permission] = {}
        for permission in (*CORE_PERMISSIONS, *permissions):
            if permission.name in self._permissions:
                raise ValueError(f"permission {permission.name!r} is registered twice")
            self._permissions[permission.name] = permission

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self._permissions.values(), key=lambda p: p.name))

    def __contains__(self, name: object) -> bool:
        return name in self._permissions

    def can(self, actor: Actor | None, name: str) -> bool:
        """Whether the actor holds the permission; an anonymous visitor (None) holds none."""
        if name not in self._permissions:
            raise KeyError(f"unknown permission {name!r}")
        if actor is None or not getattr(actor, "active", True):
            return False
        return actor.is_admin or actor.role in self._permissions[name].roles

    def require(self, actor: Actor | None, name: str) -> None:
        """Raise :class:`PermissionDenied` unless the actor holds the permission."""
        if not self.can(actor, name):
            raise PermissionDenied(f"you need the {name!r} permission for this")
