"""Login throttling: at most ``MAX_FAILURES`` failed sign-ins per account and address in a sliding window.

Sign-in code calls :func:`check_login_allowed` before checking the password, then
:func:`record_login_failure` when the password was wrong or :func:`clear_login_failures` when it was
right. The functions work in the caller's session and transaction; they never commit.

Each failure is one row keyed by a hash of e-mail and address, so the check is one indexed query
(the newest ``MAX_FAILURES`` failures of the key inside the window) and the window slides exactly.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from frontdesk.db import utcnow
from frontdesk.errors import TooManyAttempts
from frontdesk.models import LoginFailure

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
# After a recorded failure, the chance that rows of every key older than the window are deleted too.
PRUNE_ALL_CHANCE = 0.02


def login_key(email: str, ip: str | None) -> str:
    """The throttle key of an account and address: a SHA-256 hex digest, so no e-mail is stored in the clear."""
    raw = f"{(email or '').strip().lower()}|{(ip or '').strip().lower()}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def check_login_allowed(session: Session, email: str, ip: str | None, now: datetime | None = None) -> None:
    """Raise :class:`~frontdesk.errors.TooManyAttempts` when the account had too many failures from ``ip``.

    ``retry_after`` on the error is the number of seconds until one more attempt is allowed.
    """
    now = now or utcnow()
    recent = session.scalars(
        select(LoginFailure.failed_at)
        .where(LoginFailure.key == login_key(email, ip), LoginFailure.failed_at > now - WINDOW)
        .order_by(LoginFailure.failed_at.desc())
        .limit(MAX_FAILURES)
    ).all()
    if len(recent) < MAX_FAILURES:
        return
    # The oldest of the newest MAX_FAILURES failures leaves the window first; then one attempt is free.
    free_at = recent[-1] + WINDOW
    raise TooManyAttempts(math.ceil((free_at - now).total_seconds()))


def record_login_failure(session: Session, email: str, ip: str | None, now: datetime | None = None) -> None:
    """Count a failed sign-in; the key's failures that left the window are deleted (now and then everyone's)."""
    now = now or utcnow()
    key = login_key(email, ip)
    session.execute(delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.failed_at <= now - WINDOW))
    if random.random() < PRUNE_ALL_CHANCE:  # noqa: S311 (not security relevant: when to tidy up)
        prune_login_failures(session, now)
    session.add(LoginFailure(key=key, failed_at=now))
    session.flush()


def clear_login_failures(session: Session, email: str, ip: str | None) -> None:
    """Forget the failures of this account from this address (after a successful sign-in)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == login_key(email, ip)))


def prune_login_failures(session: Session, now: datetime | None = None) -> int:
    """Delete every failure older than the window; return how many rows went (also fit for a periodic job)."""
    now = now or utcnow()
    result = session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - WINDOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
