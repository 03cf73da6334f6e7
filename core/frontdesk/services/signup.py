"""Self sign-up: a requester creates their own account, when the desk's sign-up policy lets them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdesk.errors import PermissionDenied, ValidationError
from frontdesk.models import Role, User
from frontdesk.services import people, throttle
from frontdesk.uow import UnitOfWork

SIGNUP_KEY = "sign-up"  # throttled like sign-in failures: at most 10 accounts per address in 15 minutes


@dataclass(frozen=True)
class SignupPolicy:
    """Who may sign up: nobody (``closed``), anyone (``open``) or addresses of some domains (``domains``)."""

    mode: str = "closed"
    domains: tuple[str, ...] = ()

    def allows(self, email: str) -> bool:
        """Whether an account for ``email`` may be created by its owner."""
        if self.mode == "open":
            return True
        domain = email.rpartition("@")[2].strip().lower()
        return self.mode == "domains" and domain in {d.strip().lower().lstrip("@") for d in self.domains}

    @property
    def offered(self) -> bool:
        """Whether the sign-in page offers sign-up at all."""
        return self.mode == "open" or (self.mode == "domains" and bool(self.domains))


def sign_up(uow: UnitOfWork, data: dict[str, Any], policy: SignupPolicy, ip: str | None) -> User:
    """Create a requester account for its owner (name, e-mail, password) as the policy allows.

    Run it as the system (the visitor has no account yet), like signing in. Attempts are limited per
    address; the new account is a requester, never staff.
    """
    throttle.check_login_allowed(uow.session, SIGNUP_KEY, ip)
    email = str(data.get("email", "")).strip().lower()
    if not policy.offered:
        raise PermissionDenied("this desk does not accept sign-ups; ask the help desk for an account")
    if email and not policy.allows(email):
        raise ValidationError({"email": ["sign-up is open to addresses of the organization's domains only"]})
    throttle.record_login_failure(uow.session, SIGNUP_KEY, ip)
    values = {"email": email, "name": data.get("name", ""), "password": data.get("password", "")}
    if not values["password"]:
        raise ValidationError({"password": ["choose a password of at least 8 characters"]})
    user = people.create_user(uow, {**values, "role": Role.REQUESTER.value})
    uow.emit("user.signed_up", payload={"user_id": user.id})
    return user
