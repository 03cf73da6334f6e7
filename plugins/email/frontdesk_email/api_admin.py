"""``/api/v1/email``: mailboxes, the review queue, failed messages and the outbox (``email.manage``), and
each ticket's mail log (agents who may see the ticket). With an API token, changes need the ``admin`` scope.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from frontdesk_email import mailboxes, maillog, outbound, review
from frontdesk_email.blueprints import api as blp
from frontdesk_email.mailboxes import MailboxSchema
from frontdesk_webui.api.auth import SAFE_METHODS, require_actor, require_scope
from frontdesk_webui.context import desk

AGENT_ENDPOINTS = frozenset({"MailLog"})  # view classes agents may call (the rest: mail managers)
OPEN_ENDPOINTS = frozenset({"Inbound"})  # authenticated by their own proof (the webhook's signature)


@blp.before_request
def authorize() -> None:
    """Refuse who may not call before anything is validated: 403 comes before 422 and 404."""
    view = request.endpoint.rpartition(".")[2] if request.endpoint else ""
    if view in OPEN_ENDPOINTS:
        return
    user = require_actor()
    if view in AGENT_ENDPOINTS:
        desk().permissions.require(user, "tickets.work")
        return
    if request.method not in SAFE_METHODS:
        require_scope("admin")
    desk().permissions.require(user, mailboxes.PERMISSION)


def _actor() -> Any:
    return require_actor()


class MailboxOutSchema(Schema):
    """A mailbox as the API shows it (never its password)."""

    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    group_id = fields.Integer(allow_none=True)
    imap_host = fields.String(allow_none=True)
    imap_port = fields.Integer()
    imap_security = fields.String()
    imap_username = fields.String(allow_none=True)
    imap_password_env = fields.String(allow_none=True)
    has_password = fields.Function(lambda mailbox: mailbox.imap_password is not None)
    imap_folder = fields.String()
    processed_folder = fields.String(allow_none=True)
    paused = fields.Boolean()
    last_polled_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class MailboxChangesSchema(MailboxSchema):
    """Changes to a mailbox: only the fields given change."""


class ConnectionSchema(Schema):
    """How trying the mailbox's IMAP server went."""

    ok = fields.Boolean()
    message = fields.String()


class PageArgs(Schema):
    """Keyset pagination: newest first; pass the last id seen as ``before``."""

    before = fields.Integer(load_default=None, validate=validate.Range(min=1))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class OutboxArgs(PageArgs):
    state = fields.String(load_default=None, validate=validate.OneOf(outbound.STATES))


class InboundSchema(Schema):
    """A recorded inbound message and what became of it (``decision``: why)."""

    id = fields.Integer()
    mailbox_id = fields.Integer(allow_none=True)
    source = fields.String()
    message_id = fields.String(allow_none=True)
    sender = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    size = fields.Integer()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    ticket_id = fields.Integer(allow_none=True, data_key="ticket")
    comment_id = fields.Integer(allow_none=True)
    decision = fields.Dict()
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)


class OutboxSchema(Schema):
    """A mail the desk sends: its state, attempts and last error."""

    id = fields.Integer()
    ticket_id = fields.Integer(allow_none=True, data_key="ticket")
    comment_id = fields.Integer(allow_none=True)
    kind = fields.String()
    automatic = fields.Boolean()
    to = fields.List(fields.String(), attribute="to_addrs")
    cc = fields.List(fields.String(), attribute="cc_addrs")
    subject = fields.String()
    message_id = fields.String()
    in_reply_to = fields.String(allow_none=True)
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


class MailLogSchema(Schema):
    """A ticket's mail: received and sent, oldest first."""

    received = fields.List(fields.Nested(InboundSchema))
    sent = fields.List(fields.Nested(OutboxSchema))


class AcceptSchema(Schema):
    ticket = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class OutcomeSchema(Schema):
    """What the pipeline did with a message."""

    status = fields.String()
    outcome = fields.String(allow_none=True)
    ticket = fields.Integer(allow_none=True, attribute="ticket_number")
    comment_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    message = fields.Integer(allow_none=True, attribute="message_row_id")


@blp.route("/mailboxes")
class Mailboxes(MethodView):
    @blp.response(200, MailboxOutSchema(many=True))
    def get(self) -> Any:
        """Every mailbox, by name."""
        with desk().reading(_actor()) as uow:
            return mailboxes.list_mailboxes(uow)

    @blp.arguments(MailboxSchema)
    @blp.response(201, MailboxOutSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a mailbox (the group by name; the IMAP password, or the environment variable holding it)."""
        with desk().action(_actor(), source="api") as uow:
            return mailboxes.add_mailbox(uow, data)


@blp.route("/mailboxes/<int:mailbox_id>")
class MailboxItem(MethodView):
    @blp.response(200, MailboxOutSchema)
    def get(self, mailbox_id: int) -> Any:
        """One mailbox."""
        with desk().reading(_actor()) as uow:
            return mailboxes.get_mailbox(uow, mailbox_id)

    @blp.arguments(MailboxChangesSchema(partial=True))
    @blp.response(200, MailboxOutSchema)
    def patch(self, data: dict[str, Any], mailbox_id: int) -> Any:
        """Change some fields (``{"paused": true}`` pauses polling); an empty password keeps the stored one."""
        with desk().action(_actor(), source="api") as uow:
            return mailboxes.edit_mailbox(uow, mailbox_id, data)

    @blp.response(204)
    def delete(self, mailbox_id: int) -> None:
        """Delete a mailbox; its messages and sent mail stay."""
        with desk().action(_actor(), source="api") as uow:
            mailboxes.delete_mailbox(uow, mailbox_id)


@blp.route("/mailboxes/<int:mailbox_id>/test")
class MailboxTest(MethodView):
    @blp.response(200, ConnectionSchema)
    def post(self, mailbox_id: int) -> Any:
        """Log in to the mailbox's IMAP server and open its folder; ``ok`` says whether it worked."""
        with desk().reading(_actor()) as uow:
            return mailboxes.test_connection(uow, mailbox_id)


@blp.route("/review")
class ReviewQueue(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InboundSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Messages waiting for a person, newest first."""
        with desk().reading(_actor()) as uow:
            return review.pending(uow, before=args["before"], limit=args["limit"])


@blp.route("/review/<int:message_id>/accept")
class ReviewAccept(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.response(200, InboundSchema)
    def post(self, data: dict[str, Any], message_id: int) -> Any:
        """Add a waiting message to a ticket; its sender becomes a CC (409 if it no longer waits)."""
        with desk().action(_actor(), source="api") as uow:
            review.accept(uow, message_id, data["ticket"])
            return maillog.get_message(uow, message_id)


@blp.route("/review/<int:message_id>/new-ticket")
class ReviewNewTicket(MethodView):
    @blp.response(201, InboundSchema)
    def post(self, message_id: int) -> Any:
        """Make a new ticket of a waiting message."""
        with desk().action(_actor(), source="api") as uow:
            review.create_ticket_from(uow, message_id)
            return maillog.get_message(uow, message_id)


@blp.route("/review/<int:message_id>/discard")
class ReviewDiscard(MethodView):
    @blp.response(200, InboundSchema)
    def post(self, message_id: int) -> Any:
        """Discard a waiting (or failed) message; it stays recorded as discarded."""
        with desk().action(_actor(), source="api") as uow:
            return review.discard(uow, message_id)


@blp.route("/messages/failed")
class FailedMessages(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, InboundSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Failed and quarantined messages, newest first."""
        with desk().reading(_actor()) as uow:
            return review.failed(uow, before=args["before"], limit=args["limit"])


@blp.route("/messages/<int:message_id>/retry")
class RetryMessage(MethodView):
    @blp.response(200, OutcomeSchema)
    def post(self, message_id: int) -> Any:
        """Run a failed, quarantined or waiting message through the pipeline again."""
        return review.reprocess(desk(), message_id, actor=_actor())


@blp.route("/messages/<int:message_id>/raw")
class RawMessage(MethodView):
    @blp.response(200, content_type="message/rfc822")
    def get(self, message_id: int) -> Response:
        """The message exactly as received."""
        with desk().reading(_actor()) as uow:
            raw = maillog.raw_message(uow, message_id)
        return Response(raw, mimetype="message/rfc822")


@blp.route("/outbox")
class Outbox(MethodView):
    @blp.arguments(OutboxArgs, location="query")
    @blp.response(200, OutboxSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Mail the desk sent or tries to send, newest first, optionally of one state."""
        with desk().reading(_actor()) as uow:
            return outbound.outbox(uow, state=args["state"], before=args["before"], limit=args["limit"])


@blp.route("/outbox/<int:outbox_id>/retry")
class OutboxRetry(MethodView):
    @blp.response(202, OutboxSchema)
    def post(self, outbox_id: int) -> Any:
        """Queue a failed mail again (422 if it did not fail); a worker sends it."""
        with desk().action(_actor(), source="api") as uow:
            return outbound.retry(uow, outbox_id)


@blp.route("/tickets/<int:number>/mail")
class MailLog(MethodView):
    @blp.response(200, MailLogSchema)
    def get(self, number: int) -> Any:
        """A ticket's mail log for agents: every message received and sent, with state and reasons."""
        with desk().reading(_actor()) as uow:
            received, sent = maillog.mail_log(uow, number)
            return {"received": received, "sent": sent}
