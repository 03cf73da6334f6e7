"""``POST /api/v1/email/inbound``: mail services that forward mail by HTTP post the raw message here.

The body is the message exactly as received (``message/rfc822``); the caller proves it knows the
``webhook_secret`` setting with ``X-Frontdesk-Signature: sha256=<hex HMAC-SHA256 of the body>``.
No signature answers 401, a wrong one 403, an empty secret (the webhook is off) 404. The answer is
202 with what the pipeline did; 503 asks the caller to deliver again later.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from frontdesk.errors import ValidationError
from frontdesk.permissions import SYSTEM
from frontdesk_email import mailboxes, pipeline
from frontdesk_email.api_admin import OutcomeSchema
from frontdesk_email.blueprints import api as blp
from frontdesk_email.outbound import settings
from frontdesk_webui.api import open_to_anonymous
from frontdesk_webui.context import desk

HEADER = "X-Frontdesk-Signature"


def signature(secret: str, body: bytes) -> str:
    """The header value that authenticates ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class InboundArgs(Schema):
    mailbox = fields.String(
        load_default=None, metadata={"description": "The address, name or id of the mailbox the mail was sent to"}
    )


@blp.route("/inbound")
@open_to_anonymous
class Inbound(MethodView):
    @blp.arguments(InboundArgs, location="query")
    @blp.response(202, OutcomeSchema)
    @blp.doc(security=[])
    def post(self, args: dict[str, Any]) -> Any:
        """Receive one raw message (signed with the webhook secret) into the inbound pipeline."""
        body = request.get_data(cache=False)
        with desk().reading(SYSTEM) as uow:
            secret = settings(uow)["webhook_secret"]
        if not secret:
            abort(404, message="The inbound mail webhook is off (no webhook_secret setting).")
        given = request.headers.get(HEADER)
        if not given:
            abort(401, message=f"Sign the body: {HEADER}: sha256=<HMAC-SHA256 of the body with the webhook secret>.")
        if not hmac.compare_digest(given.strip().lower(), signature(secret, body)):
            abort(403, message=f"The {HEADER} header does not match the body.")
        mailbox_id = _mailbox_id(args["mailbox"])  # only once signed: unsigned callers learn no mailbox names
        if not body.strip():
            raise ValidationError({"body": ["the body must be a raw message"]})
        try:
            return pipeline.ingest(desk(), body, source="webhook", mailbox_id=mailbox_id)
        except pipeline.TransientError as exc:
            abort(503, message=f"Deliver again later: {exc}")


def _mailbox_id(mailbox: str | None) -> int | None:
    if not mailbox:
        return None
    with desk().reading(SYSTEM) as uow:
        found = mailboxes.lookup(uow.session, mailbox)
        if found is None:
            raise ValidationError({"mailbox": [f"there is no mailbox {mailbox!r}"]})
        return found.id
