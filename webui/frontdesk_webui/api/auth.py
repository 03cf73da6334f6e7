"""Who is calling: a bearer token (API clients) or the browser session, and what the call may do."""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user
from flask_smorest import abort
from flask_wtf.csrf import CSRFProtect

from frontdesk.models import User
from frontdesk.services.tokens import authenticate_token
from frontdesk_webui.context import desk

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}


def actor() -> User | None:
    """The user behind this request, or None for an anonymous one."""
    return current_user if current_user.is_authenticated else None


def require_actor() -> User:
    """The signed-in user; answers 401 for anonymous requests."""
    user = actor()
    if user is None:
        abort(401, message="Sign in or send an API token (Authorization: Bearer ...).")
    return user


def signed_in_only() -> None:
    """``before_request`` of API blueprints: every API call needs a user (401 otherwise)."""
    require_actor()


def require_scope(scope: str) -> None:
    """Token requests need at least ``scope``; browser sessions carry the user's full rights."""
    granted = g.get("token_scope")
    if granted is not None and SCOPE_RANK[granted] < SCOPE_RANK[scope]:
        abort(403, message=f"This API token has the {granted!r} scope; this call needs {scope!r}.")


def configure(app: Flask, csrf: CSRFProtect) -> None:
    """Authenticate bearer tokens before anything else; check CSRF on every other state-changing request."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def authenticate() -> None:
        header = request.headers.get("Authorization")
        if header is None:
            # Cookie-authenticated writes need the CSRF token; an anonymous API call is answered 401 instead.
            anonymous_api_call = request.path.startswith("/api/") and not current_user.is_authenticated
            if (
                request.method not in SAFE_METHODS
                and app.config.get("WTF_CSRF_ENABLED", True)
                and not anonymous_api_call
            ):
                csrf.protect()
            return
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            abort(401, message="Use 'Authorization: Bearer <token>'.", headers={"WWW-Authenticate": "Bearer"})
        found = _identify(secret.strip())
        if found is None:
            abort(401, message="This API token is unknown, expired or revoked.", headers={"WWW-Authenticate": "Bearer"})
        user, scope = found
        # A token request never looks at the session cookie: the token alone says who calls.
        g._login_user = user
        g.token_scope = scope
        if request.method not in SAFE_METHODS:
            require_scope("write")


def _identify(secret: str) -> tuple[User, str] | None:
    """Look the token up without taking the write lock; record its use (once a minute) separately."""
    with desk().db.reading() as session:
        found = authenticate_token(session, secret)
        used = bool(session.dirty)
        session.expunge_all()  # keep the read transaction read-only
    if used:
        with desk().db.transaction() as session:
            authenticate_token(session, secret)
    return found
