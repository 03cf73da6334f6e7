"""The email admin pages (``email.manage``): mailboxes, the review queue, failed messages, the outbox.

Also the agents' per-ticket mail log, a panel in the ticket sidebar. Writes go through the
services in ``desk().action(user, source="web")``; forms carry the CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import select

from frontdesk.errors import Conflict, FrontdeskError, ValidationError
from frontdesk.models import Group, Ticket, User
from frontdesk.uow import UnitOfWork
from frontdesk_email import mailboxes, maillog, outbound, review
from frontdesk_email.blueprints import pages as bp
from frontdesk_email.ticket_mail import ticket_mail
from frontdesk_webui import admin_base
from frontdesk_webui.agent_forms import error_messages, ticket_number
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
# The pages a message can be discarded from, by the ``next`` value their forms send: the answer returns there.
DISCARDED_FROM = {"review": "email.review_page", "failed": "email.failed_page"}
F = TypeVar("F", bound=Callable[..., Any])


def managers_only(view: F) -> F:
    """These pages need a signed-in user holding ``email.manage`` (admins); others get 403."""

    @wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not desk().permissions.can(admin_base.me(), mailboxes.PERMISSION):
            abort(403)
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def _done(message: str, endpoint: str, **values: Any) -> Response:
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def _refused(exc: FrontdeskError, endpoint: str, **values: Any) -> Response:
    flash(" ".join(error_messages(exc)), "warning")
    return redirect(url_for(endpoint, **values))


def _decide(work: Callable[[UnitOfWork], str], endpoint: str, **refused_values: Any) -> Response:
    """Run a form's ``work`` as one action, flash what it returns, and go to ``endpoint``.

    A refusal (invalid input, or a message or mail no longer in that state) is flashed instead,
    going to ``endpoint`` with ``refused_values``.
    """
    try:
        with admin_base.action() as uow:
            done = work(uow)
    except (ValidationError, Conflict) as exc:
        return _refused(exc, endpoint, **refused_values)
    return _done(done, endpoint)


# Mailboxes


@bp.route("/", endpoint="mailboxes")
@managers_only
def mailboxes_page() -> str:
    """Every mailbox with its IMAP server, group, state and the last poll's result."""
    with admin_base.reading() as uow:
        return render_template("email/mailboxes.html", mailboxes=mailboxes.list_mailboxes(uow), groups=_groups(uow))


def _groups(uow: Any) -> dict[int, str]:
    return dict(uow.session.execute(select(Group.id, Group.name).order_by(Group.name)).all())


def _form() -> dict[str, Any]:
    values: dict[str, Any] = {name: request.form.get(name, "").strip() for name in MAILBOX_FIELDS}
    for name in ("group", "imap_host", "imap_username", "imap_password", "imap_password_env", "processed_folder"):
        values[name] = values[name] or None
    values["imap_port"] = admin_base.number(values["imap_port"])
    values["paused"] = admin_base.checked("paused")
    return values


def _mailbox_form(form: dict[str, Any], errors: dict[str, list[str]], mailbox_id: int | None, status: int) -> Any:
    with admin_base.reading() as uow:
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
        with admin_base.action() as uow:
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
        with admin_base.reading() as uow:
            mailbox = mailboxes.get_mailbox(uow, mailbox_id)
            form = {name: getattr(mailbox, name, None) for name in MAILBOX_FIELDS if name != "imap_password"}
            form["group"] = _groups(uow).get(mailbox.group_id) if mailbox.group_id else None
        return _mailbox_form(form, {}, mailbox_id, 200)
    form = _form()
    try:
        with admin_base.action() as uow:
            mailboxes.edit_mailbox(uow, mailbox_id, form)
    except ValidationError as exc:
        return _mailbox_form(form, exc.errors, mailbox_id, 422)
    return _done("Mailbox saved.", "email.mailboxes")


@bp.route("/mailboxes/<int:mailbox_id>/test", methods=["POST"])
@managers_only
def test_mailbox(mailbox_id: int) -> Response:
    """Try logging in to the mailbox's IMAP server and opening its folder; say how it went."""
    with admin_base.reading() as uow:
        result = mailboxes.test_connection(uow, mailbox_id)
    flash(result.message, "success" if result.ok else "danger")
    return redirect(url_for("email.mailboxes"))


@bp.route("/mailboxes/<int:mailbox_id>/pause", methods=["POST"])
@managers_only
def pause_mailbox(mailbox_id: int) -> Response:
    """Pause polling of a mailbox, or resume it (``paused=0``)."""
    paused = request.form.get("paused", "1") != "0"
    with admin_base.action() as uow:
        name = mailboxes.set_paused(uow, mailbox_id, paused).name
    return _done(f"Mailbox {name} {'paused' if paused else 'resumed'}.", "email.mailboxes")


@bp.route("/mailboxes/<int:mailbox_id>/delete", methods=["POST"])
@managers_only
def delete_mailbox(mailbox_id: int) -> Response:
    """Delete a mailbox (its messages and sent mail stay)."""
    with admin_base.action() as uow:
        mailboxes.delete_mailbox(uow, mailbox_id)
    return _done("Mailbox deleted.", "email.mailboxes")


# Review queue and failed messages


@bp.route("/review")
@managers_only
def review_page() -> str:
    """Messages waiting for a person: accept into a ticket, make a new ticket, or discard."""
    before = request.args.get("before", type=int)
    with admin_base.reading() as uow:
        messages = review.pending(uow, before=before, limit=PAGE)
        return render_template("email/review.html", messages=messages, page=PAGE)


@bp.route("/review/<int:message_id>/accept", methods=["POST"])
@managers_only
def accept_message(message_id: int) -> Response:
    """Add a waiting message to the ticket named in the form (its suggested ticket by default)."""

    def accept(uow: UnitOfWork) -> str:
        number = ticket_number(request.form.get("ticket", ""), "ticket")
        review.accept(uow, message_id, number)
        return f"Message added to ticket #{number}."

    return _decide(accept, "email.review_page")


@bp.route("/review/<int:message_id>/new-ticket", methods=["POST"])
@managers_only
def new_ticket_from(message_id: int) -> Response:
    """Make a new ticket of a waiting message."""

    def make_ticket(uow: UnitOfWork) -> str:
        review.create_ticket_from(uow, message_id)
        return "A new ticket was made of the message."

    return _decide(make_ticket, "email.review_page")


@bp.route("/review/<int:message_id>/discard", methods=["POST"])
@managers_only
def discard_message(message_id: int) -> Response:
    """Drop a waiting, failed or quarantined message (it stays recorded as discarded); back to the page it was on."""
    back = DISCARDED_FROM.get(request.form.get("next", ""), "email.review_page")

    def discard(uow: UnitOfWork) -> str:
        review.discard(uow, message_id)
        return "Message discarded."

    return _decide(discard, back)


@bp.route("/failed")
@managers_only
def failed_page() -> str:
    """Inbound messages that failed or were quarantined, with the reason; retry or read the original."""
    before = request.args.get("before", type=int)
    with admin_base.reading() as uow:
        messages = review.failed(uow, before=before, limit=PAGE)
        return render_template("email/failed.html", messages=messages, page=PAGE)


@bp.route("/messages/<int:message_id>/retry", methods=["POST"])
@managers_only
def retry_message(message_id: int) -> Response:
    """Run a failed message through the pipeline again."""
    try:
        outcome = review.reprocess(desk(), message_id, actor=admin_base.me())
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
    with admin_base.reading() as uow:
        rows = outbound.outbox(uow, state=state, before=before, limit=PAGE)
        return render_template("email/outbox.html", rows=rows, state=state, states=outbound.STATES, page=PAGE)


@bp.route("/outbox/<int:outbox_id>/retry", methods=["POST"])
@managers_only
def retry_outbox(outbox_id: int) -> Response:
    """Queue a failed mail again."""

    def retry(uow: UnitOfWork) -> str:
        outbound.retry(uow, outbox_id)
        return f"Mail #{outbox_id} is queued again."

    return _decide(retry, "email.outbox_page", state="failed")


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
