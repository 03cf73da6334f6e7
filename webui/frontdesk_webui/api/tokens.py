"""``/api/v1/tokens``: the caller's API tokens (admins: anyone's); the secret is shown once, at creation."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk.db import MAX_ID
from frontdesk.errors import NotFound
from frontdesk.models import ApiToken, TokenScope
from frontdesk.services import tokens
from frontdesk.services.tokens import TokenCreateSchema, TokenSchema
from frontdesk_webui.api.auth import require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens for scripts and integrations.")


class TokenListArgs(Schema):
    """Whose tokens to list: the caller's by default; another user's needs an admin."""

    user = fields.String(
        validate=[validate.Length(max=320), validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")],
        metadata={"description": "E-mail of the owner (admins)"},
    )


def _timestamp(description: str) -> fields.String:
    return fields.String(allow_none=True, metadata={"format": "date-time", "description": description})


class TokenOutSchema(Schema):
    """A token as listed: never the secret, never its hash (the service's :class:`TokenSchema`, typed)."""

    id = fields.Integer()
    user = fields.String(metadata={"description": "E-mail of the owner"})
    name = fields.String()
    prefix = fields.String(metadata={"description": "The first characters of the secret, to recognize it"})
    scope = fields.String(validate=validate.OneOf([scope.value for scope in TokenScope]))
    state = fields.String(metadata={"description": "active, expired or revoked"})
    created_at = fields.String(metadata={"format": "date-time"})
    expires_at = _timestamp("None: never expires")
    last_used_at = _timestamp("Recorded at most once a minute")
    revoked_at = _timestamp("When it was revoked, if it was")


class TokenCreatedSchema(TokenOutSchema):
    """A new token: ``token`` is the secret, shown in this answer only; send it as ``Authorization: Bearer``."""

    token = fields.String(metadata={"description": "The secret: store it now, it cannot be shown again"})


def _is_own(email: str | None, user: Any) -> bool:
    return email is None or email.strip().lower() == user.email.lower()


@blp.route("")
class Tokens(MethodView):
    @blp.arguments(TokenListArgs, location="query")
    @blp.response(200, TokenOutSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's tokens, newest first (admins: ``?user=`` for someone else's); never the secrets."""
        user = require_actor()
        email = args.get("user")
        if not _is_own(email, user):
            require_scope("admin")
        with desk().reading(user) as uow:
            return tokens.list_tokens(uow, email)

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a token; the answer carries its secret (``token``) this once.

        With a token, only an ``admin``-scope token may create tokens; a signed-in browser always may.
        """
        require_scope("admin")
        with desk().action(require_actor(), source="api") as uow:
            token, secret = tokens.create_token(uow, data)
            shown = TokenSchema().dump(token)
        return {**shown, "token": secret}, 201


@blp.route("/<int:token_id>")
class Token(MethodView):
    @blp.response(204)
    def delete(self, token_id: int) -> Response:
        """Revoke a token (the caller's own; admins: anyone's). Revoking twice keeps the first time."""
        user = require_actor()
        if token_id > MAX_ID:
            raise NotFound(f"no API token with id {token_id}")
        with desk().action(user, source="api") as uow:
            found = uow.session.get(ApiToken, token_id)
            if found is not None and found.user_id != user.id and uow.can("people.manage"):
                require_scope("admin")  # someone else's token: an admin's action
            tokens.revoke_token(uow, token_id)
        return Response(status=204)
