"""The requester portal (``/portal``): submit requests, follow them, answer and close them.

Requesters see their own requests and, when their organization shares tickets, their colleagues'
requests; the thread shows public replies only. Agents and admins work in ``/agent`` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import fields as marshmallow_fields
from werkzeug.wrappers import Response

from frontdesk.attachments import sanitize_filename
from frontdesk.errors import Conflict, PermissionDenied, TooLarge, ValidationError
from frontdesk.models import Organization, StatusCategory, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.queries import Page, TicketFilter, comments_of, list_tickets, ticket_for_output
from frontdesk.request_fields import request_fields
from frontdesk.schemas import load
from frontdesk.schemas.tickets import TicketCreateSchema
from frontdesk.services import workflow
from frontdesk.services.comments import add_comment
from frontdesk.services.tickets import create_ticket, get_ticket, update_ticket
from frontdesk.storage import Upload
from frontdesk.uow import UnitOfWork
from frontdesk_webui.context import desk

bp = Blueprint("portal", __name__, url_prefix="/portal")

PAGE_SIZE = 20
SOURCE = "portal"

# Status categories in words a requester understands, and the badge style of each.
STATUS_WORDS = {
    StatusCategory.NEW: "Open",
    StatusCategory.OPEN: "Open",
    StatusCategory.PENDING: "Waiting for your reply",
    StatusCategory.SOLVED: "Solved",
    StatusCategory.CLOSED: "Closed",
}
STATUS_STYLES = {
    StatusCategory.NEW: "open",
    StatusCategory.OPEN: "open",
    StatusCategory.PENDING: "pending",
    StatusCategory.SOLVED: "solved",
    StatusCategory.CLOSED: "closed",
}


@bp.before_request
@login_required
def requesters_only() -> Response | None:
    """Every portal page needs a signed-in user; agents and admins work in the agent workspace."""
    if current_user.is_staff:
        return redirect(url_for("agent.index"))
    return None


@bp.context_processor
def portal_helpers() -> dict[str, Any]:
    return {"status_words": status_words, "status_style": status_style, "when": when, "file_size": file_size}


def status_words(ticket: Ticket, user: User | None = None) -> str:
    """The status of a request as the requester reads it (colleagues read "Waiting for a reply")."""
    words = STATUS_WORDS.get(StatusCategory(ticket.status_category), ticket.status.name)
    if ticket.status_category == StatusCategory.PENDING and user is not None and ticket.requester_id != user.id:
        return "Waiting for a reply"
    return words


def status_style(ticket: Ticket) -> str:
    return STATUS_STYLES.get(StatusCategory(ticket.status_category), "open")


def when(moment: datetime | None) -> str:
    """A timestamp for people: ``3 May 2025, 14:05 UTC``."""
    if moment is None:
        return ""
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def me() -> User:
    """The signed-in user itself (not Flask-Login's proxy), for reading."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def acting_user() -> User:
    """A fresh copy of the signed-in user to act with.

    A service may attach its actor to the action's session (``create_ticket`` makes it the
    requester); if the action then fails, the rollback expires that object, and the signed-in user
    would be unusable for the rest of the request (the page that shows the error needs it).
    """
    with desk().reading(SYSTEM) as uow:
        user = uow.session.get(User, current_user.id)
    if user is None:  # deleted meanwhile
        abort(401)
    return user


def uploads() -> list[Upload]:
    """The files of the form's ``attachments`` input; an empty part ("no file chosen") is skipped."""
    return [Upload(part.filename, part.stream) for part in request.files.getlist("attachments") if part.filename]


# --- My requests ------------------------------------------------------------------------------


@bp.route("/")
def index() -> str:
    """The requester's own requests, newest update first, and their organization's shared ones."""
    user = me()
    cursor = request.args.get("cursor") or None
    shared_cursor = request.args.get("shared_cursor") or None
    with desk().reading(user) as uow:
        mine = list_tickets(uow, TicketFilter(requester=user.email), cursor=cursor, limit=PAGE_SIZE)
        organization = uow.session.get(Organization, user.organization_id) if user.organization_id else None
        shared = None
        if organization is not None and organization.shared:
            shared = colleagues_requests(uow, organization, user, shared_cursor)
        return render_template(
            "portal/index.html",
            mine=mine,
            shared=shared,
            organization=organization,
            cursor=cursor,
            shared_cursor=shared_cursor,
        )


def colleagues_requests(uow: UnitOfWork, organization: Organization, user: User, cursor: str | None) -> Page:
    """A page of the organization's requests filed by others (the user's own are listed above).

    The list query cannot leave one requester out, so pages are read until one is full; the
    cursor stays the list's own and pages never skip or repeat rows.
    """
    items: list[Ticket] = []
    for _ in range(5):
        page = list_tickets(uow, TicketFilter(organization=organization.name), cursor=cursor, limit=PAGE_SIZE)
        items.extend(ticket for ticket in page.items if ticket.requester_id != user.id)
        cursor = page.next_cursor
        if cursor is None or len(items) >= PAGE_SIZE:
            break
    return Page(items, cursor)


# --- A new request ----------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | Response | tuple[str, int]:
    """Submit a request: subject, description, fields plugins add, and files; errors re-render the form
    with the typed values."""
    form = {"subject": request.form.get("subject", ""), "body": request.form.get("body", "")}
    extra = {
        key.removeprefix("extensions."): value for key, value in request.form.items() if key.startswith("extensions.")
    }
    if request.method == "GET":
        return new_form(form, extra, {})
    files = uploads()
    errors = check_request(form)
    if errors:
        return new_form(form, extra, errors, 422)
    try:
        with desk().action(acting_user(), source=SOURCE) as uow:
            data = {"subject": form["subject"], "body": form["body"], "extensions": nested(extra)}
            number = create_ticket(uow, data).number
            if files:
                # Files belong to comments: they arrive as the request's first reply.
                names = ", ".join(sanitize_filename(upload.filename) for upload in files)
                add_comment(uow, number, {"body": f"Files attached to the request: {names}"}, files)
    except ValidationError as exc:
        return new_form(form, extra, exc.errors, 422)
    except TooLarge as exc:
        return new_form(form, extra, {"attachments": [exc.message]}, 413)
    flash(f"Thank you: your request #{number} was submitted. Replies will appear here.", "success")
    return redirect(url_for("portal.request_page", number=number))


def new_form(form: dict[str, str], extra: dict[str, str], errors: dict[str, Any], status: int = 200) -> tuple[str, int]:
    """The request form with the fields plugins add (each with its input kind and choices)."""
    with desk().reading(acting_user()) as uow:
        extra_fields = []
        for bound in request_fields(uow):
            choices = bound.choices(uow)
            extra_fields.append((bound, widget(bound.spec.field, choices), choices))
    inline = ["subject", "body", "attachments", *(f"extensions.{bound.key}" for bound, _kind, _choices in extra_fields)]
    page = render_template(
        "portal/new.html", form=form, extra=extra, extra_fields=extra_fields, errors=errors, inline_errors=inline
    )
    return page, status


def nested(values: dict[str, str]) -> dict[str, dict[str, str]]:
    """Form values named ``<plugin>.<field>`` as the service takes them: ``{plugin: {field: value}}``."""
    result: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        plugin, _, name = key.partition(".")
        result.setdefault(plugin, {})[name] = value
    return result


def widget(field: Any, choices: list[tuple[str, str]]) -> str:
    """The input a plugin's field gets: a list of its choices, a checkbox, a number, a date or text."""
    if choices:
        return "select"
    kinds = {
        marshmallow_fields.Boolean: "checkbox",
        marshmallow_fields.Number: "number",
        marshmallow_fields.Date: "date",
    }
    return next((kind for base, kind in kinds.items() if isinstance(field, base)), "text")


def check_request(form: dict[str, str]) -> dict[str, list[str]]:
    """Friendly messages for empty fields, then the service's own rules (lengths...)."""
    errors: dict[str, list[str]] = {}
    if not form["subject"].strip():
        errors["subject"] = ["Please enter a subject: a few words about what you need."]
    if not form["body"].strip():
        errors["body"] = ["Please describe your request."]
    if not errors:
        try:
            load(TicketCreateSchema(), form)
        except ValidationError as exc:
            errors = exc.errors
    return errors


# --- One request ------------------------------------------------------------------------------


@bp.route("/requests/<int:number>")
def request_page(number: int) -> str:
    """One request: the description and the public replies, reply form and solve / reopen."""
    return render_request(number)


def render_request(number: int, *, reply: str = "", errors: dict[str, list[str]] | None = None) -> str:
    """The request page; a request the user may not see is not found (404)."""
    user = me()
    with desk().reading(user) as uow:
        ticket = ticket_for_output(uow, number)
        comments = comments_of(uow, number)
        # Rendered inside the read: plugin panels may load more of the ticket.
        return render_template(
            "portal/request.html",
            ticket=ticket,
            comments=comments,
            reply=reply,
            errors=errors or {},
            can_change_status=ticket.requester_id == user.id,
        )


CLOSED = "This request is closed, so it cannot change any more. Submit a new request to follow up."
CHANGED = "This request changed while you were reading it; have a look before you try again."


def open_request(uow: UnitOfWork, number: int) -> Ticket:
    """The visible request ``number``, refused with a plain-words :class:`Conflict` when it is closed."""
    ticket = get_ticket(uow, number)
    if ticket.is_closed:
        raise Conflict(CLOSED)
    return ticket


@bp.route("/requests/<int:number>/reply", methods=["POST"])
def reply(number: int) -> Response | tuple[str, int]:
    """Add a public reply (with files); a reply to a solved or pending request reopens it."""
    body = request.form.get("body", "")
    if not body.strip():
        return render_request(number, reply=body, errors={"body": ["Please write your reply."]}), 422
    try:
        with desk().action(acting_user(), source=SOURCE) as uow:
            open_request(uow, number)
            add_comment(uow, number, {"body": body}, uploads())
    except ValidationError as exc:
        return render_request(number, reply=body, errors=exc.errors), 422
    except TooLarge as exc:
        return render_request(number, reply=body, errors={"attachments": [exc.message]}), 413
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(url_for("portal.request_page", number=number))
    flash("Your reply was sent.", "success")
    return redirect(url_for("portal.request_page", number=number, _anchor="reply"))


@bp.route("/requests/<int:number>/status", methods=["POST"])
def change_status(number: int) -> Response:
    """Mark the request solved, or reopen it; only its requester may.

    ``version`` is the one the page showed: a request that changed meanwhile (a new reply, say)
    is not solved blindly.
    """
    action = request.form.get("action")
    if action not in ("solve", "reopen"):
        abort(400)
    version = request.form.get("version", type=int)
    try:
        with desk().action(acting_user(), source=SOURCE) as uow:
            ticket = open_request(uow, number)
            if ticket.requester_id != uow.actor_id:
                raise PermissionDenied("only the person who submitted a request can solve or reopen it")
            if version is not None and version != ticket.version:
                raise Conflict(CHANGED)
            category = StatusCategory.SOLVED if action == "solve" else StatusCategory.OPEN
            update_ticket(uow, number, {"status": workflow.status_in(uow, category).name, "version": version})
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(url_for("portal.request_page", number=number))
    if action == "solve":
        flash("Marked as solved. If you still need help, reply or reopen the request.", "success")
    else:
        flash("Reopened: the support team will pick it up again.", "success")
    return redirect(url_for("portal.request_page", number=number))
