"""Agent pages for inbound mail: "why is this here?" under each email message, the message itself, the original."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, make_response, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from frontdesk.errors import NotFound
from frontdesk.models import Comment, Ticket, User
from frontdesk_email import review
from frontdesk_email.blueprints import pages
from frontdesk_email.explain import explain
from frontdesk_email.models import InboundMessage
from frontdesk_email.pipeline import PROCESSED, load_raw
from frontdesk_email.ticket_mail import ticket_mail
from frontdesk_webui.context import desk
from frontdesk_webui.errors import CSP


def _me() -> Any:
    return current_user._get_current_object()


def _message_of(ticket: Ticket, comment: Comment | None, user: User) -> InboundMessage | None:
    """The processed mail behind one message of the thread (None: the opening request); the ticket's mail is
    loaded once per page by :func:`ticket_mail`."""
    key = comment.id if comment is not None else None
    return next((row for row in ticket_mail(ticket, user) if row.status == PROCESSED and row.comment_id == key), None)


def comment_slot(ticket: Ticket, comment: Comment | None, user: User) -> Markup | None:
    """The mail footer of one message on the agent's ticket page, or None when it did not come by mail."""
    if not desk().permissions.can(user, "tickets.work"):
        return None
    row = _message_of(ticket, comment, user)
    if row is None:
        return None
    lines = explain(row.decision, ticket=row.ticket_id)
    return Markup(render_template("email/_comment.html", row=row, lines=lines))  # noqa: S704 (autoescaped)


def _visible(message_id: int) -> InboundMessage:
    try:
        with desk().reading(_me()) as uow:
            return review.visible_message(uow, message_id)
    except NotFound:
        abort(404)


@pages.route("/messages/<int:message_id>")
@login_required
def message(message_id: int) -> Response:
    """One inbound message: what the desk decided and why, its text, its sanitized HTML and headers.

    Remote images stay blocked (a sender learns when mail is read from them) until the agent asks
    for them with ``?images=1``; only then may this page load images from other servers.
    """
    row = _visible(message_id)
    images = request.args.get("images") == "1"
    with desk().reading(_me()) as uow:
        parsed = review.parsed_message(uow, row, remote_images=images)
    lines = explain(row.decision, ticket=row.ticket_id)
    response = make_response(render_template("email/message.html", row=row, parsed=parsed, lines=lines, images=images))
    if images:
        response.headers["Content-Security-Policy"] = CSP.replace("img-src 'self' data:", "img-src 'self' data: https:")
    return response


@pages.route("/messages/<int:message_id>/raw")
@login_required
def original(message_id: int) -> Response:
    """The message exactly as received, as a download (never rendered by the browser)."""
    row = _visible(message_id)
    response = Response(load_raw(desk(), row), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="message-{row.id}.eml"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
