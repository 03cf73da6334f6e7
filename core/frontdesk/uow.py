"""The unit of work a service function receives: session, actor, source and the desk around them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.permissions import Actor


@dataclass
class UnitOfWork:
    """Everything one service call needs; it lives exactly as long as one transaction."""

    desk: Desk
    session: Session
    actor: Actor | None
    source: str

    def require(self, permission: str) -> None:
        """Raise :class:`~frontdesk.errors.PermissionDenied` unless the actor holds ``permission``."""
        self.desk.permissions.require(self.actor, permission)

    def can(self, permission: str) -> bool:
        """Whether the actor holds ``permission``."""
        return self.desk.permissions.can(self.actor, permission)
