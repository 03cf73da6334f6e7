"""The agent workspace (``/agent``): the rail of views, ticket lists with bulk actions, and the ticket page.

Routes only translate HTTP to service calls: reads run in ``desk().reading(user)``, changes in
``desk().action(user, source="web")``; what a user may see or do is decided by the core.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from frontdesk.errors import Conflict, FrontdeskError, PermissionDenied, ValidationError
from frontdesk.models import User
from frontdesk.services import comments, escalation, links, macros, tickets
from frontdesk.services import views as saved_views
from frontdesk.text import whole_number
from frontdesk_webui.agent_forms import (
    Draft,
    bulk_change,
    bulk_numbers,
    error_messages,
    local_path,
    property_changes,
    submitted_properties,
    submitted_version,
    ticket_number,
)
from frontdesk_webui.agent_views import (
    SORTS,
    TEMPLATE_HELPERS,
    ListState,
    View,
    current_properties,
    everything_view,
    list_page,
    my_workload,
    rail_views,
    ticket_page,
)
from frontdesk_webui.confirm import confirm_page, confirmed
from frontdesk_webui.context import desk

bp = Blueprint("agent", __name__, url_prefix="/agent")
STATUS_OF = {ValidationError: 422, Conflict: 409, PermissionDenied: 403}


@bp.before_request
@login_required
def staff_only() -> None:
    """Requesters belong in the portal."""
    if not current_user.is_staff:
        abort(403)


@bp.context_processor
def helpers() -> dict[str, Any]:
    return TEMPLATE_HELPERS


def me() -> User:
    """The signed-in agent as a plain object, for services and queries."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def status_of(exc: FrontdeskError) -> int:
    return next((code for kind, code in STATUS_OF.items() if isinstance(exc, kind)), 400)


# Lists


@bp.route("/")
def index() -> tuple[str, int]:
    """The agent's own open tickets: where the workspace starts."""
    return _list("mine")


@bp.route("/views/unassigned", defaults={"key": "unassigned"})
@bp.route("/views/all", defaults={"key": "all"})
@bp.route("/views/recent", defaults={"key": "recent"})
def view(key: str) -> tuple[str, int]:
    """A named view; ``url_for("agent.view", key="recent")`` builds its address."""
    return _list(key)


@bp.route("/groups/<int:group_id>")
def group_queue(group_id: int) -> tuple[str, int]:
    return _list(f"group-{group_id}")


def _pick(views: list[View], key: str) -> View:
    found = next((view for view in views if view.key == key), None)
    if found is not None:
        return found
    if key == "all":  # an agent's search of everything they may see
        return everything_view()
    abort(404)


@bp.route("/saved/<int:view_id>")
def saved_view(view_id: int) -> tuple[str, int]:
    """A saved view (the agent's own or a shared one)."""
    return _list(f"saved-{view_id}")


def _list(key: str, *, args: Any = None, view_errors: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    state = ListState.from_args(args if args is not None else request.args)
    with desk().reading(me()) as uow:
        views = rail_views(uow, me())
        current = _pick(views, key)
        context = list_page(uow, current, state)
        html = render_template(
            "agent/list.html", views=views, view=current, state=state, view_errors=view_errors or [], **context
        )
    return html, status


@bp.route("/saved", methods=["POST"])
def save_view() -> Response | tuple[str, int]:
    """Save the list being looked at (its view's filters with the search and filters applied) as a view."""
    base = request.form.get("base", "mine")
    state = ListState.from_args(request.form)
    with desk().reading(me()) as uow:
        current = _pick(rail_views(uow, me()), base)
    filters = state.filters(current)
    data = {
        "name": request.form.get("name", ""),
        "filters": {
            "category": filters.category,
            "priority": filters.priority,
            "tag": filters.tag,
            "group": filters.group,
            "assignee": filters.assignee,
            "q": filters.q,
        },
        "columns": request.form.getlist("columns"),
        "sort": state.sort if state.sort in SORTS else current.sort,
        "shared": request.form.get("shared") == "yes",
    }
    try:
        with desk().action(me(), source="web") as uow:
            saved = saved_views.create_view(uow, data)
            view_id = saved.id
    except (ValidationError, PermissionDenied) as exc:
        return _list(base, args=request.form, view_errors=error_messages(exc), status=status_of(exc))
    flash(f"View “{data['name'].strip()}” saved.", "success")
    return redirect(url_for(".saved_view", view_id=view_id))


@bp.route("/saved/<int:view_id>/delete", methods=["POST"])
def delete_view(view_id: int) -> Response | tuple[str, int]:
    """Remove one of your views (or a shared one, for admins) once confirmed; without it, ask first."""
    if not confirmed():
        with desk().reading(me()) as uow:
            view = saved_views.removable_view(uow, view_id)
            name, shared = view.name, view.owner_id is None
        consequence = "Every agent loses it from their list." if shared else "It goes from your list."
        back = url_for(".saved_view", view_id=view_id)
        return confirm_page("view", name, consequence, name, back, verb="Remove")
    with desk().action(me(), source="web") as uow:
        saved_views.delete_view(uow, view_id)
    flash("View removed.", "success")
    return redirect(url_for(".index"))


@bp.route("/dashboard")
def dashboard() -> str:
    """The agent's overview: their workload, what nobody has taken, each queue's backlog, plugin widgets."""
    with desk().reading(me()) as uow:
        views = rail_views(uow, me())
        workload = my_workload(uow)
        return render_template("agent/dashboard.html", views=views, workload=workload)


@bp.route("/rail")
def rail() -> str:
    """The rail alone, with fresh counts (the list page polls it with htmx)."""
    with desk().reading(me()) as uow:
        views = rail_views(uow, me())
    return render_template("agent/_rail.html", views=views, current_key=request.args.get("current", ""))


@bp.route("/bulk", methods=["POST"])
def bulk() -> Response:
    """Apply one change to the ticked tickets in one transaction; each ticket succeeds or fails on its own."""
    back = local_path(request.form.get("next"), url_for(".index"))
    numbers = bulk_numbers(request.form)
    if not numbers:
        flash("Tick at least one ticket first.", "warning")
        return redirect(back)
    try:
        done, change = bulk_change(request.form, me().email)
    except ValidationError as exc:
        flash(" ".join(error_messages(exc)), "warning")
        return redirect(back)
    failures: list[str] = []
    with desk().action(me(), source="web") as uow:
        for number in numbers:
            try:
                with uow.savepoint():
                    tickets.update_ticket(uow, number, dict(change))
            except FrontdeskError as exc:
                failures.append(f"#{number}: {exc.message}")
    updated = len(numbers) - len(failures)
    noun = "ticket" if updated == 1 else "tickets"
    if failures:
        flash(f"{updated} of {len(numbers)} tickets {done}. Not changed: {'; '.join(failures)}", "warning")
    else:
        flash(f"{updated} {noun} {done}.", "success")
    return redirect(back)


# One ticket


def _ticket_page(
    number: int,
    *,
    status: int = 200,
    form: Any = None,
    draft: Draft | None = None,
    errors: list[str] | None = None,
) -> tuple[str, int]:
    """The ticket page; after a failed change it shows what the agent submitted and typed, never losing it."""
    with desk().reading(me()) as uow:
        context = ticket_page(uow, number)
        ticket = context["ticket"]
        current = current_properties(ticket)
        props = {**current, **(submitted_properties(form) if form is not None else {})}
        sent_version = submitted_version(form) if form is not None else None
        stale = sent_version is not None and sent_version != ticket.version
        html = render_template(
            "agent/ticket.html",
            props=props,
            current=current,
            stale=stale,
            draft=draft or Draft(),
            errors=errors or [],
            **context,
        )
    return html, status


@bp.route("/tickets/<int:number>")
def ticket(number: int) -> tuple[str, int]:
    return _ticket_page(number)


@bp.route("/tickets/<int:number>/comments", methods=["POST"])
def comment(number: int) -> Response | tuple[str, int]:
    """Reply to the requester (the default) or add an internal note."""
    draft = Draft.from_form(request.form)
    try:
        with desk().action(me(), source="web") as uow:
            comments.add_comment(uow, number, {"body": draft.body, "public": draft.public})
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _ticket_page(number, status=status_of(exc), draft=draft, errors=error_messages(exc))
    flash("Reply sent to the requester." if draft.public else "Internal note added.", "success")
    return redirect(url_for(".ticket", number=number, _anchor="composer"))


@bp.route("/tickets/<int:number>/properties", methods=["POST"])
def properties(number: int) -> Response | tuple[str, int]:
    """Change the ticket's fields, guarded by the version the page showed; a stale page changes nothing."""
    draft = Draft.from_form(request.form, prefix="draft_")
    try:
        with desk().action(me(), source="web") as uow:
            tickets.update_ticket(uow, number, property_changes(request.form))
    except (ValidationError, Conflict, PermissionDenied) as exc:
        messages = error_messages(exc)
        return _ticket_page(number, status=status_of(exc), form=request.form, draft=draft, errors=messages)
    flash(f"Ticket #{number} updated.", "success")
    if draft.body.strip():  # keep the unsent reply the agent was writing
        return _ticket_page(number, draft=draft)
    return redirect(url_for(".ticket", number=number))


def _require_visible(number: int) -> None:
    """404 for a ticket the agent may not see, before its forms are read (no existence oracle)."""
    with desk().reading(me()) as uow:
        tickets.get_ticket(uow, number)


@bp.route("/tickets/<int:number>/links", methods=["POST"])
def link(number: int) -> Response:
    _require_visible(number)
    try:
        other = ticket_number(request.form.get("other", ""), "other")
        kind = request.form.get("kind", "related")
        with desk().action(me(), source="web") as uow:
            links.link_tickets(uow, number, other, kind)
    except FrontdeskError as exc:
        flash(" ".join(error_messages(exc)), "danger")
    else:
        flash(f"Linked #{number} to #{other} ({kind}).", "success")
    return redirect(url_for(".ticket", number=number, _anchor="links"))


@bp.route("/tickets/<int:number>/links/<int:other>/delete", methods=["POST"])
def unlink(number: int, other: int) -> Response | tuple[str, int]:
    """Remove every link between two tickets once confirmed (``confirm=yes``); without it, ask first."""
    _require_visible(number)
    if not confirmed():
        consequence = "Every link between the two tickets goes (a merge stays); both tickets' histories say so."
        back = url_for(".ticket", number=number, _anchor="links")
        return confirm_page("link", f"#{number} ↔ #{other}", consequence, f"#{number}", back, verb="Remove")
    try:
        with desk().action(me(), source="web") as uow:
            links.unlink_tickets(uow, number, other)
    except FrontdeskError as exc:
        flash(exc.message, "danger")
    else:
        flash(f"Removed the link between #{number} and #{other}.", "success")
    return redirect(url_for(".ticket", number=number, _anchor="links"))


@bp.route("/tickets/<int:number>/merge", methods=["POST"])
def merge(number: int) -> Response:
    """Merge this ticket into another, once the agent ticked the confirmation."""
    _require_visible(number)
    try:
        into = ticket_number(request.form.get("into", ""), "into")
        if request.form.get("confirm") != "yes":
            raise ValidationError({"confirm": ["tick the box to confirm the merge"]})
        with desk().action(me(), source="web") as uow:
            links.merge_tickets(uow, number, into)
    except FrontdeskError as exc:
        flash(" ".join(error_messages(exc)), "danger")
        return redirect(url_for(".ticket", number=number, _anchor="links"))
    flash(f"Ticket #{number} was merged into #{into} and closed.", "success")
    return redirect(url_for(".ticket", number=into))


@bp.route("/tickets/<int:number>/macro", methods=["POST"])
def apply_macro(number: int) -> Response | tuple[str, int]:
    """Apply a macro (its field changes, then its reply or note), guarded by the version the page showed."""
    _require_visible(number)
    try:
        raw = request.form.get("macro", "").strip()
        macro_id = whole_number(raw)
        if macro_id is None:
            raise ValidationError({"macro": ["choose a macro to apply"]})
        with desk().action(me(), source="web") as uow:
            macros.apply_macro(uow, macro_id, number, submitted_version(request.form))
            name = macros.get_macro(uow, macro_id).name
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _ticket_page(number, status=status_of(exc), form=request.form, errors=error_messages(exc))
    except FrontdeskError as exc:
        flash(exc.message, "danger")
        return redirect(url_for(".ticket", number=number))
    flash(f"Applied “{name}”.", "success")
    return redirect(url_for(".ticket", number=number))


@bp.route("/tickets/<int:number>/escalate", methods=["POST"])
def escalate(number: int) -> Response:
    """Move the ticket to the next support level, with the agent's reason."""
    _require_visible(number)
    try:
        with desk().action(me(), source="web") as uow:
            ticket = escalation.escalate(uow, number, request.form.get("reason", ""))
            group = ticket.group.name if ticket.group else ""
    except FrontdeskError as exc:
        flash(" ".join(error_messages(exc)), "danger")
        return redirect(url_for(".ticket", number=number))
    flash(f"Ticket #{number} was escalated to {group}.", "success")
    return redirect(url_for(".ticket", number=number))
