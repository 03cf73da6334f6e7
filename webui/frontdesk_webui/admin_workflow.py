"""The admin console's workflow page: statuses, priorities and ticket types (create, edit, delete)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from frontdesk.errors import Conflict
from frontdesk.models import StatusCategory
from frontdesk.services import catalog
from frontdesk_webui.admin_base import CONFIRM_PAGE, action, bp, checked, number, reading, submit, text
from frontdesk_webui.confirm import confirm_page, confirmed

CATEGORIES = [category.value for category in StatusCategory]


@dataclass(frozen=True)
class Kind:
    """One kind of workflow entry: its services and its form fields as ``(name, label, input)``."""

    key: str
    title: str
    singular: str
    fields: tuple[tuple[str, str, str], ...]
    list_: Any
    read: Any
    create: Any
    update: Any
    delete: Any

    def blank(self) -> dict[str, Any]:
        return {name: (False if kind == "checkbox" else "") for name, _label, kind in self.fields}

    def values_of(self, entry: Any) -> dict[str, Any]:
        return {name: getattr(entry, name) for name, _label, _kind in self.fields}

    def form(self) -> dict[str, Any]:
        """The typed values, as the form shows them again."""
        return {name: checked(name) if kind == "checkbox" else text(name) for name, _label, kind in self.fields}

    def data(self, form: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """The service's input: numbers converted, blank optional numbers left out (or None on create)."""
        data: dict[str, Any] = {}
        for name, _label, kind in self.fields:
            value = form[name]
            if kind == "number":
                value = number(value)
                if value is None and not creating:
                    continue
            data[name] = value
        return data


KINDS = {
    "statuses": Kind(
        "statuses",
        "Statuses",
        "status",
        (
            ("name", "Name", "text"),
            ("category", "Category", "category"),
            ("position", "Position", "number"),
            ("is_default", "Default of its category", "checkbox"),
        ),
        catalog.list_statuses,
        catalog.read_status,
        catalog.create_status,
        catalog.update_status,
        catalog.delete_status,
    ),
    "priorities": Kind(
        "priorities",
        "Priorities",
        "priority",
        (("name", "Name", "text"), ("rank", "Rank", "number"), ("is_default", "Default for new tickets", "checkbox")),
        catalog.list_priorities,
        catalog.read_priority,
        catalog.create_priority,
        catalog.update_priority,
        catalog.delete_priority,
    ),
    "types": Kind(
        "types",
        "Ticket types",
        "type",
        (("name", "Name", "text"), ("position", "Position", "number")),
        catalog.list_types,
        catalog.read_type,
        catalog.create_type,
        catalog.update_type,
        catalog.delete_type,
    ),
}


def kind_of(key: str) -> Kind:
    if key not in KINDS:
        abort(404)
    return KINDS[key]


def render_workflow(
    failed: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The three lists with a create form each; ``failed`` names the kind whose form comes back."""
    forms = {key: kind.blank() for key, kind in KINDS.items()}
    if failed and form is not None:
        forms[failed] = form
    with reading() as uow:
        html = render_template(
            "admin/workflow.html",
            kinds=KINDS.values(),
            entries={key: kind.list_(uow) for key, kind in KINDS.items()},
            forms=forms,
            failed=failed,
            errors=errors or {},
            conflict=conflict,
            categories=CATEGORIES,
        )
    return html, status


@bp.route("/workflow")
def workflow() -> tuple[str, int]:
    return render_workflow()


@bp.route("/workflow/<kind>", methods=["POST"])
def create_entry(kind: str) -> Response | tuple[str, int]:
    spec = kind_of(kind)
    form = spec.form()
    submit(lambda uow: spec.create(uow, spec.data(form, creating=True)), partial(render_workflow, kind), form)
    flash(f"The {spec.singular} {form['name']} was added.", "success")
    return redirect(url_for("admin.workflow", _anchor=kind))


def render_entry(
    spec: Kind,
    entry_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with reading() as uow:
        entry = spec.read(uow, entry_id)
        html = render_template(
            "admin/workflow_entry.html",
            kind=spec,
            entry=entry,
            form=form or spec.values_of(entry),
            errors=errors or {},
            conflict=conflict,
            categories=CATEGORIES,
        )
    return html, status


@bp.route("/workflow/<kind>/<int:entry_id>", methods=["GET", "POST"])
def entry(kind: str, entry_id: int) -> Response | tuple[str, int]:
    spec = kind_of(kind)
    if request.method == "GET":
        return render_entry(spec, entry_id)
    form = spec.form()
    submit(
        lambda uow: spec.update(uow, entry_id, spec.data(form, creating=False)),
        partial(render_entry, spec, entry_id),
        form,
    )
    flash(f"The {spec.singular} {form['name']} was saved.", "success")
    return redirect(url_for("admin.workflow", _anchor=kind))


@bp.route("/workflow/<kind>/<int:entry_id>/delete", methods=["POST"])
def delete_entry(kind: str, entry_id: int) -> Response | tuple[str, int]:
    """Delete a status, priority or ticket type once confirmed (``confirm=yes``); without it, ask first."""
    spec = kind_of(kind)
    try:
        with action() as uow:
            name = spec.read(uow, entry_id).name
            if not confirmed():
                consequence = f"Deleting is refused while tickets use this {spec.singular}."
                back = url_for("admin.workflow", _anchor=kind)
                return confirm_page(spec.singular, name, consequence, "Workflow", back, page=CONFIRM_PAGE)
            spec.delete(uow, entry_id)
    except Conflict as exc:
        return render_entry(spec, entry_id, conflict=exc.message, status=409)
    flash(f"The {spec.singular} {name} was deleted.", "success")
    return redirect(url_for("admin.workflow", _anchor=kind))
