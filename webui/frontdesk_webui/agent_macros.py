"""An agent's own macros (``/agent/macros``): canned replies or notes with a few field changes.

Shared macros, with every kind of action, are the admins' (``/admin/automation/macros``); here an
agent writes the ones they use themselves with a short form: text, reply or note, and optionally a
status, a priority and tags to add or remove.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import Macro
from frontdesk.services import catalog, macros
from frontdesk_webui.agent import me, staff_only
from frontdesk_webui.agent_forms import error_messages
from frontdesk_webui.confirm import confirm_page, confirmed
from frontdesk_webui.context import desk

bp = Blueprint("agent_macros", __name__, url_prefix="/agent/macros")
bp.before_request(staff_only)


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def macro_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The macro the short form describes, in the service's shape."""
    actions: list[dict[str, Any]] = [
        {"type": "set", "field": name, "value": form[name]} for name in ("status", "priority") if form.get(name)
    ]
    for kind, name in (("add_tags", "add_tags"), ("remove_tags", "remove_tags")):
        if tags := _split(form.get(name, "")):
            actions.append({"type": kind, "tags": tags})
    return {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "body": form.get("body", ""),
        "public": form.get("visibility", "public") == "public",
        "actions": actions,
    }


def form_values(macro: Macro | None) -> dict[str, str]:
    """A stored macro as the short form shows it."""
    if macro is None:
        return {"visibility": "public"}
    values = {
        "name": macro.name,
        "description": macro.description,
        "body": macro.body,
        "visibility": "public" if macro.public else "internal",
    }
    for action in macro.actions:
        if action["type"] == "set":
            values[action["field"]] = action["value"] or ""
        elif action["type"] in ("add_tags", "remove_tags"):
            values[action["type"]] = ", ".join(action["tags"])
    return values


def own_macro(uow: Any, macro_id: int) -> Macro:
    """One of the agent's own macros; shared ones are changed in the admin console, so they 404 here."""
    macro = macros.get_macro(uow, macro_id)
    if macro.owner_id is None:
        raise NotFound(f"no personal macro #{macro_id} (shared macros are edited in the admin console)")
    return macro


def _page(macro_id: int | None, values: dict[str, str], errors: list[str], status: int = 200) -> tuple[str, int]:
    with desk().reading(me()) as uow:
        html = render_template(
            "agent/macros.html",
            macros=macros.list_macros(uow),
            editing=macro_id,
            values=values,
            errors=errors,
            statuses=catalog.list_statuses(uow),
            priorities=catalog.list_priorities(uow),
        )
    return html, status


@bp.route("/", methods=["GET", "POST"])
def index() -> tuple[str, int] | Response:
    """The agent's macros and the shared ones; the form below adds a personal one."""
    if request.method == "GET":
        return _page(None, form_values(None), [])
    try:
        with desk().action(me(), source="web") as uow:
            created = macros.create_macro(uow, macro_data(request.form))
            name = created.name
    except ValidationError as exc:
        return _page(None, dict(request.form), error_messages(exc), 422)
    flash(f"Macro “{name}” saved.", "success")
    return redirect(url_for(".index"))


@bp.route("/<int:macro_id>", methods=["GET", "POST"])
def edit(macro_id: int) -> tuple[str, int] | Response:
    """Change one of your macros."""
    if request.method == "GET":
        with desk().reading(me()) as uow:
            values = form_values(own_macro(uow, macro_id))
        return _page(macro_id, values, [])
    try:
        with desk().action(me(), source="web") as uow:
            own_macro(uow, macro_id)
            macros.update_macro(uow, macro_id, macro_data(request.form))
    except ValidationError as exc:
        return _page(macro_id, dict(request.form), error_messages(exc), 422)
    flash("Macro saved.", "success")
    return redirect(url_for(".index"))


@bp.route("/<int:macro_id>/delete", methods=["POST"])
def delete(macro_id: int) -> Response | tuple[str, int]:
    """Remove one of your macros once confirmed (``confirm=yes``); without it, ask first."""
    with desk().action(me(), source="web") as uow:
        name = own_macro(uow, macro_id).name
        if not confirmed():
            consequence = "Replies and notes it already wrote stay on their tickets."
            return confirm_page("macro", name, consequence, "Macros", url_for(".index"))
        macros.delete_macro(uow, macro_id)
    flash("Macro deleted.", "success")
    return redirect(url_for(".index"))
