"""The email admin pages (``email.manage``): mailboxes, the review queue, failed messages, the outbox.

Also the agents' per-ticket mail log, a panel in the ticket sidebar. Writes go through the
services in ``desk().action(user, source="web")``; forms carry the CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from frontdesk.errors import Conflict, FrontdeskError, NotFound, ValidationError
from frontdesk.models import Group, Ticket, User
from frontdesk_email import mailboxes, maillog, outbound, review
from frontdesk_email.blueprints import pages as bp
from frontdesk_email.ticket_mail import ticket_mail
from frontdesk_webui.context import desk

MAILBOX_FIELDS = (
    "name",
    "address",
    "group",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_password_env",
    "imap_folder",
    "processed_folder",
)
PAGE = 50
F = TypeVar("F", bound=Callable[..., Any])


def managers_only(view: F) -> F:
    """These pages need a signed-in user holding ``email.manage`` (admins); others get 403."""

    @wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not desk().permissions.can(me(), mailboxes.PERMISSION):
            abort(403)
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _action() -> Any:
    return desk().action(me(), source="web")


def _reading() -> Any:
    return desk().reading(me())


def _done(message: str, endpoint: str, **values: Any) -> Response:
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def _refused(exc: FrontdeskError, endpoint: str, **values: Any) -> Response:
    reasons = exc.errors if isinstance(exc, ValidationError) else {}
    text = " ".join(f"{field}: {' '.join(messages)}" for field, messages in reasons.items()) or exc.message
    flash(text, "warning")
    return redirect(url_for(endpoint, **values))


# Mailboxes


@bp.route("/", endpoint="mailboxes")
@managers_only
def mailboxes_page() -> str:
    """Every mailbox with its IMAP server, group, state and the last poll's result."""
    with _reading() as uow:
        return render_template("email/mailboxes.html", mailboxes=mailboxes.list_mailboxes(uow), groups=_groups(uow))


def _groups(uow: Any) -> dict[int, str]:
    return dict(uow.session.execute(select(Group.id, Group.name).order_by(Group.name)).all())


def _form() -> dict[str, Any]:
    values: dict[str, Any] = {name: request.form.get(name, "").strip() for name in MAILBOX_FIELDS}
    for name in ("group", "imap_host", "imap_username", "imap_password", "imap_password_env", "processed_folder"):
        values[name] = values[name] or None
    port = values["imap_port"]
    values["imap_port"] = int(port) if port.isdigit() else (port or None)
    values["paused"] = request.form.get("paused") in ("on", "true", "1")
    return values


def _mailbox_form(form: dict[str, Any], errors: dict[str, list[str]], mailbox_id: int | None, status: int) -> Any:
    with _reading() as uow:
        groups = sorted(_groups(uow).values())
    page = render_template("email/mailbox_form.html", form=form, errors=errors, mailbox_id=mailbox_id, groups=groups)
    return page, status


@bp.route("/mailboxes/new", methods=["GET", "POST"])
@managers_only
def new_mailbox() -> Any:
    """Add a mailbox: its address, group, and (optionally) the IMAP folder to fetch its mail from."""
    if request.method == "GET":
        return _mailbox_form({"imap_security": "tls", "imap_folder": "INBOX"}, {}, None, 200)
    form = _form()
    try:
        with _action() as uow:
            created = mailboxes.add_mailbox(uow, form)
            name = created.name
    except ValidationError as exc:
        return _mailbox_form(form, exc.errors, None, 422)
    return _done(f"Mailbox {name} added.", "email.mailboxes")


@bp.route("/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
@managers_only
def edit_mailbox(mailbox_id: int) -> Any:
    """Change a mailbox; leaving the password blank keeps the stored one."""
    if request.method == "GET":
        with _reading() as uow:
            mailbox = _or_404(lambda: mailboxes.get_mailbox(uow, mailbox_id))
            form = {name: getattr(mailbox, name, None) for name in MAILBOX_FIELDS if name != "imap_password"}
            form["group"] = _groups(uow).get(mailbox.group_id) if mailbox.group_id else None
        return _mailbox_form(form, {}, mailbox_id, 200)
    form = _form()
    try:
        with _action() as uow:
            _or_404(lambda: mailboxes.edit_mailbox(uow, mailbox_id, form))
    except ValidationError as exc:
        return _mailbox_form(form, exc.errors, mailbox_id, 422)
    return _done("Mailbox saved.", "email.mailboxes")


@bp.route("/mailboxes/<int:mailbox_id>/test", methods=["POST"])
@managers_only
def test_mailbox(mailbox_id: int) -> Response:
    """Try logging in to the mailbox's IMAP server and opening its folder; say how it went."""
    with _reading() as uow:
        result = _or_404(lambda: mailboxes.test_connection(uow, mailbox_id))
    flash(result.message, "success" if result.ok else "danger")
    return redirect(url_for("email.mailboxes"))


@bp.route("/mailboxes/<int:mailbox_id>/pause", methods=["POST"])
@managers_only
def pause_mailbox(mailbox_id: int) -> Response:
    """Pause polling of a mailbox, or resume it (``paused=0``)."""
    paused = request.form.get("paused", "1") != "0"
    with _action() as uow:
        name = _or_404(lambda: mailboxes.set_paused(uow, mailbox_id, paused)).name
    return _done(f"Mailbox {name} {'paused' if paused else 'resumed'}.", "email.mailboxes")


@bp.route("/mailboxes/<int:mailbox_id>/delete", methods=["POST"])
@managers_only
def delete_mailbox(mailbox_id: int) -> Response:
    """Delete a mailbox (its messages and sent mail stay)."""
    with _action() as uow:
        _or_404(lambda: mailboxes.delete_mailbox(uow, mailbox_id))
    return _done("Mailbox deleted.", "email.mailboxes")


# Review queue and failed messages


@bp.route("/review")
@managers_only
def review_page() -> str:
    """Messages waiting for a person: accept into a ticket, make a new ticket, or discard."""
    before = request.args.get("before", type=int)
    with _reading() as uow:
        messages = review.pending(uow, before=before, limit=PAGE)
        return render_template("email/review.html", messages=messages, page=PAGE)


@bp.route("/review/<int:message_id>/accept", methods=["POST"])
@managers_only
def accept_message(message_id: int) -> Response:
    """Add a waiting message to the ticket named in the form (its suggested ticket by default)."""
    number = request.form.get("ticket", "").strip().lstrip("#")
    if not number.isdigit():
        flash("ticket: give the number of the ticket to add the message to.", "warning")
        return redirect(url_for("email.review_page"))
    try:
        with _action() as uow:
            _or_404(lambda: review.accept(uow, message_id, int(number)))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, "email.review_page")
    return _done(f"Message added to ticket #{number}.", "email.review_page")


@bp.route("/review/<int:message_id>/new-ticket", methods=["POST"])
@managers_only
def new_ticket_from(message_id: int) -> Response:
    """Make a new ticket of a waiting message."""
    try:
        with _action() as uow:
            _or_404(lambda: review.create_ticket_from(uow, message_id))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, "email.review_page")
    return _done("A new ticket was made of the message.", "email.review_page")


@bp.route("/review/<int:message_id>/discard", methods=["POST"])
@managers_only
def discard_message(message_id: int) -> Response:
    """Drop a waiting message (it stays recorded as discarded)."""
    try:
        with _action() as uow:
            _or_404(lambda: review.discard(uow, message_id))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, "email.review_page")
    return _done("Message discarded.", "email.review_page")


@bp.route("/failed")
@managers_only
def failed_page() -> str:
    """Inbound messages that failed or were quarantined, with the reason; retry or read the original."""
    before = request.args.get("before", type=int)
    with _reading() as uow:
        messages = review.failed(uow, before=before, limit=PAGE)
        return render_template("email/failed.html", messages=messages, page=PAGE)


@bp.route("/messages/<int:message_id>/retry", methods=["POST"])
@managers_only
def retry_message(message_id: int) -> Response:
    """Run a failed message through the pipeline again."""
    try:
        outcome = _or_404(lambda: review.reprocess(desk(), message_id, actor=me()))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, "email.failed_page")
    return _done(f"Message processed again: {outcome.status}.", "email.failed_page")


# Outbox


@bp.route("/outbox")
@managers_only
def outbox_page() -> str:
    """Mail the desk sent or tries to send, newest first; failed mail can be retried."""
    state = request.args.get("state") or None
    if state is not None and state not in outbound.STATES:
        abort(404)
    before = request.args.get("before", type=int)
    with _reading() as uow:
        rows = outbound.outbox(uow, state=state, before=before, limit=PAGE)
        return render_template("email/outbox.html", rows=rows, state=state, states=outbound.STATES, page=PAGE)


@bp.route("/outbox/<int:outbox_id>/retry", methods=["POST"])
@managers_only
def retry_outbox(outbox_id: int) -> Response:
    """Queue a failed mail again."""
    try:
        with _action() as uow:
            _or_404(lambda: outbound.retry(uow, outbox_id))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, "email.outbox_page", state="failed")
    return _done(f"Mail #{outbox_id} is queued again.", "email.outbox_page")


def _or_404(work: Any) -> Any:
    try:
        return work()
    except NotFound:
        abort(404)


# The ticket sidebar


def mail_log_panel(ticket: Ticket, user: User) -> Any:
    """The mail log of a ticket for agents: every message received and sent, with state and reason."""
    if user is None or not user.is_staff:
        return None
    received = ticket_mail(ticket, user)
    with desk().reading(user) as uow:
        sent = maillog.sent_mail(uow, ticket)
    if not received and not sent:
        return None
    html = render_template("email/_mail_log.html", ticket=ticket, received=received, sent=sent)
    return (60, Markup(html))  # noqa: S704 (rendered by an autoescaping template)
