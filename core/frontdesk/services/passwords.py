"""Password hashing with argon2id, and sign-in checks that upgrade old hashes."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontdesk.models import User

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("frontdesk-no-such-user")


def hash_password(password: str) -> str:
    """An argon2id hash of the password with the library's current parameters."""
    return _hasher.hash(password)


def check_credentials(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None; rehashes outdated hashes in the session."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user
