"""API tokens: create (the secret is shown once), list, revoke, and authenticate a bearer secret.

A secret is ``fd_`` plus ``secrets.token_urlsafe(32)``; only its SHA-256 is stored, so a stolen
database holds no usable token. Scopes nest: ``read`` < ``write`` < ``admin``; ``admin`` is only
for admins, so a requester's or an agent's token gets ``read`` or ``write``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from marshmallow import Schema, fields, post_load, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from frontdesk.db import utcnow
from frontdesk.errors import NotFound, PermissionDenied, ValidationError
from frontdesk.models import ApiToken, Role, TokenScope, User
from frontdesk.schemas import load
from frontdesk.services.people import find_user
from frontdesk.uow import UnitOfWork

SECRET_PREFIX = "fd_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = 8
MAX_EXPIRY_DAYS = 3650
# last_used_at is written at most this often per token, so API requests do not each cost a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Longer than any secret this module makes; longer input is refused without a database query.
_MAX_SECRET_LENGTH = 200
_SCOPE_RANK = {TokenScope.READ.value: 0, TokenScope.WRITE.value: 1, TokenScope.ADMIN.value: 2}


class TokenCreateSchema(Schema):
    """A new API token; ``user`` defaults to the actor, ``expires_in_days`` None means it never expires."""

    user = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=320))
    name = fields.String(
        load_default="API token",
        validate=validate.And(
            validate.Length(max=100, error="At most {max} characters."),
            validate.Regexp(r".*\S", error="Must not be blank."),
        ),
    )
    scope = fields.String(load_default=TokenScope.READ.value, validate=validate.OneOf([s.value for s in TokenScope]))
    expires_in_days = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_EXPIRY_DAYS, error="Between {min} and {max} days, or none."),
    )

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["name"] = data["name"].strip()
        if data["user"] is not None:
            data["user"] = data["user"].strip().lower() or None
        return data


class TokenSchema(Schema):
    """A token as listed: never the secret, never its hash."""

    id = fields.Integer()
    user = fields.Function(lambda token: token.user.email)
    name = fields.String()
    prefix = fields.String()
    scope = fields.String()
    state = fields.Function(lambda token: token.state())
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime()
    revoked_at = fields.DateTime()


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def scope_allows(granted: str, needed: str) -> bool:
    """Whether a token with scope ``granted`` may do what needs ``needed`` (read < write < admin)."""
    return _SCOPE_RANK[granted] >= _SCOPE_RANK[needed]


def create_token(uow: UnitOfWork, data: dict[str, Any]) -> tuple[ApiToken, str]:
    """Create a token for the actor (or, with ``people.manage``, for ``data["user"]``); return it and its secret.

    The secret is returned only here: store or show it now, it cannot be recovered later.
    """
    _require_signed_in(uow)
    values = load(TokenCreateSchema(), data)
    owner = _owner(uow, values["user"], field="user")
    if not owner.active:
        raise ValidationError({"user": [f"{owner.email} is deactivated"]})
    if values["scope"] == TokenScope.ADMIN and owner.role != Role.ADMIN:
        raise ValidationError({"scope": [f"{owner.email} is not an admin; choose 'read' or 'write'"]})
    now = utcnow()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=owner,
        name=values["name"],
        prefix=secret[:PREFIX_LENGTH],
        token_hash=hash_secret(secret),
        scope=values["scope"],
        created_at=now,
        expires_at=now + timedelta(days=values["expires_in_days"]) if values["expires_in_days"] else None,
    )
    uow.session.add(token)
    uow.session.flush()
    uow.emit("token.created", payload={"token_id": token.id, "user_id": owner.id, "scope": token.scope})
    return token, secret


def list_tokens(uow: UnitOfWork, user_email: str | None = None) -> list[dict[str, Any]]:
    """The tokens of ``user_email`` (default: the actor's own; for the system: everyone's), newest first.

    Another user's tokens need ``people.manage``. Rows are plain data without secret or hash.
    """
    _require_signed_in(uow)
    query = select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id.desc())
    if user_email is not None or isinstance(uow.actor, User):
        owner = _owner(uow, user_email, field=None)
        query = query.where(ApiToken.user_id == owner.id)
    return TokenSchema(many=True).dump(uow.session.scalars(query).all())


def get_token(uow: UnitOfWork, token_id: int) -> ApiToken:
    """A token of the actor (anyone's with ``people.manage``); others are :class:`NotFound`, as unknown ids are."""
    _require_signed_in(uow)
    token = uow.session.get(ApiToken, token_id)
    if token is None or (token.user_id != uow.actor_id and not uow.can("people.manage")):
        raise NotFound(f"no API token with id {token_id}")
    return token


def revoke_token(uow: UnitOfWork, token_id: int) -> ApiToken:
    """Revoke a token of the actor (anyone's with ``people.manage``); revoking twice keeps the first time."""
    token = get_token(uow, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        uow.emit("token.revoked", payload={"token_id": token.id, "user_id": token.user_id})
    uow.session.flush()
    return token


def authenticate_token(session: Session, secret: str, now: datetime | None = None) -> tuple[User, str] | None:
    """The active user a bearer secret belongs to and the token's scope, or None for an unusable secret.

    Revoked and expired tokens and deactivated users are refused. ``last_used_at`` is updated in
    ``session`` (pass a writing one) at most once per :data:`LAST_USED_RESOLUTION`.
    """
    if not isinstance(secret, str):
        return None
    secret = secret.strip()
    if not secret.startswith(SECRET_PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
        return None
    now = now or utcnow()
    token = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == hash_secret(secret))
    )
    if token is None or token.state(now) != "active" or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.user, token.scope


def _require_signed_in(uow: UnitOfWork) -> None:
    if uow.actor is None or not getattr(uow.actor, "active", True):
        raise PermissionDenied("sign in to manage API tokens")


def _owner(uow: UnitOfWork, email: str | None, *, field: str | None) -> User:
    """The user whose tokens are meant: the actor by default; anyone else needs ``people.manage``."""
    actor = uow.actor
    own = isinstance(actor, User) and (email is None or actor.email.lower() == email.strip().lower())
    if own:
        # This session's copy: the actor object may come from another session (e.g. the web login).
        user = uow.session.get(User, uow.actor_id)
        if user is None:
            raise PermissionDenied("sign in to manage API tokens")
        return user
    if email is None:
        raise ValidationError({field or "user": ["give the e-mail of the user the token is for"]})
    uow.require("people.manage")
    try:
        return find_user(uow, email)
    except NotFound as exc:
        if field is None:
            raise
        raise ValidationError({field: [exc.message]}) from None
