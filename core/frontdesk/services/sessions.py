"""Signing in (with throttling) and ending sessions, for every entry point that has sessions."""

from __future__ import annotations

from frontdesk.errors import PermissionDenied
from frontdesk.models import User
from frontdesk.services.passwords import check_credentials
from frontdesk.services.throttle import check_login_allowed, clear_login_failures, record_login_failure
from frontdesk.uow import UnitOfWork


def sign_in(uow: UnitOfWork, email: str, password: str, ip: str | None) -> User | None:
    """The user these credentials belong to, or None; raises ``TooManyAttempts`` after repeated failures.

    A failure is recorded (and committed with the unit of work) so that guessing stays throttled.
    """
    check_login_allowed(uow.session, email, ip)
    user = check_credentials(uow.session, email, password)
    if user is None:
        record_login_failure(uow.session, email, ip)
    else:
        clear_login_failures(uow.session, email, ip)
    return user


def end_all_sessions(uow: UnitOfWork, user_id: int) -> None:
    """Sign a user out everywhere: every existing session of theirs stops working."""
    if uow.actor_id != user_id:
        uow.require("people.manage")
    user = uow.session.get(User, user_id)
    if user is None:
        raise PermissionDenied("no such user")
    user.session_epoch += 1
