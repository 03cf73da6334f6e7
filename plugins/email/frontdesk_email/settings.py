"""The email channel's settings (``frontdesk plugins set email KEY VALUE``, or the admin console)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

CLOSED_TICKET_POLICIES = ("new_linked", "reopen", "reject")
MB = 1024 * 1024


class EmailSettings(Schema):
    """Limits, policies and the outbound server; every value has a safe default."""

    smtp_url = fields.String(
        load_default="",
        metadata={"description": "smtp://user:pass@host:587 (STARTTLS) or smtps://...; FRONTDESK_SMTP_URL wins"},
    )
    from_address = fields.Email(
        load_default=None, allow_none=True, metadata={"description": "sender when no mailbox applies"}
    )
    create_requesters = fields.Boolean(
        load_default=True, metadata={"description": "unknown senders become requesters (else rejected)"}
    )
    closed_ticket_policy = fields.String(
        load_default="new_linked",
        validate=validate.OneOf(CLOSED_TICKET_POLICIES),
        metadata={"description": "a reply to a closed ticket: new linked ticket, reopen, or reject"},
    )
    max_message_bytes = fields.Integer(load_default=25 * MB, validate=validate.Range(min=1024))
    max_parts = fields.Integer(load_default=200, validate=validate.Range(min=1))
    max_depth = fields.Integer(load_default=10, validate=validate.Range(min=1))
    max_attachment_bytes = fields.Integer(load_default=20 * MB, validate=validate.Range(min=1))
    max_attachments = fields.Integer(load_default=50, validate=validate.Range(min=0))
    auto_mail_per_hour = fields.Integer(
        load_default=5, validate=validate.Range(min=0), metadata={"description": "automatic mail to one address"}
    )
    auto_mail_per_day = fields.Integer(load_default=20, validate=validate.Range(min=0))
    webhook_secret = fields.String(
        load_default="", metadata={"description": "HMAC key of the inbound HTTP webhook; empty turns it off"}
    )
    load_remote_images = fields.Boolean(load_default=False)
