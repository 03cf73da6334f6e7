"""The admin console's automation pages: triggers and time rules, shared macros and notification texts.

The forms' condition and action rows (what they offer, typed values <-> service input) live in
:mod:`frontdesk_webui.admin_automation_rows`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from frontdesk import notifications
from frontdesk.automation.config_file import export_yaml, import_yaml
from frontdesk.automation.templates import PLACEHOLDERS
from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import RuleKind
from frontdesk.services import automation as rule_service
from frontdesk.services import macros as macro_service
from frontdesk_webui.admin_automation_rows import (
    Palette,
    action_data,
    action_row,
    blank_action,
    condition_data,
    condition_row,
    intent,
    place_errors,
    posted_actions,
    posted_conditions,
    row_slots,
    split,
)
from frontdesk_webui.admin_base import CONFIRM_PAGE, action, bp, checked, reading, submit, text
from frontdesk_webui.confirm import confirm_page, confirmed

KNOWN_EVENTS = (
    ("ticket.created", "Ticket created"),
    ("ticket.updated", "Ticket updated"),
    ("ticket.commented", "Comment added"),
    ("ticket.status_changed", "Status changed"),
    ("ticket.assigned", "Ticket assigned"),
    ("ticket.escalated", "Ticket escalated"),
    ("ticket.merged", "Ticket merged"),
)
KINDS = {
    RuleKind.TRIGGER.value: ("Trigger", "Triggers", "triggers"),
    RuleKind.TIME.value: ("Time rule", "Time rules", "time-rules"),
}
PLACEHOLDER_HINT = (
    "Placeholders: {{ ticket.number }}, {{ ticket.subject }}, {{ ticket.requester.name }}, {{ agent.name }}."
)
MAX_IMPORT = 2_000_000  # bytes


# --- Rules: the list ----------------------------------------------------------------------------


def render_rules(
    import_errors: dict[str, list[str]] | None = None, replace: bool = False, status: int = 200
) -> tuple[str, int]:
    with reading() as uow:
        rules = rule_service.list_rules(uow)
        sections = [
            {"kind": kind, "title": plural, "anchor": anchor, "rules": [r for r in rules if r.kind == kind]}
            for kind, (_singular, plural, anchor) in KINDS.items()
        ]
        html = render_template(
            "admin/automation.html",
            sections=sections,
            import_errors=import_errors or {},
            replace=replace,
            event_labels=dict(KNOWN_EVENTS),
        )
    return html, status


@bp.route("/automation")
def automation() -> tuple[str, int]:
    """Triggers and time rules in evaluation order, with switches, reordering, and YAML export/import."""
    return render_rules()


def back_to(kind: str) -> BaseResponse:
    return redirect(url_for("admin.automation", _anchor=KINDS.get(kind, KINDS["trigger"])[2]))


def missing_rule(rule_id: int) -> BaseResponse:
    """A stale link (the rule was deleted meanwhile): say so on the list rather than a bare 404."""
    flash(f"There is no rule #{rule_id} any more; it may have been deleted.", "warning")
    return redirect(url_for("admin.automation"))


@bp.route("/automation/<int:rule_id>/toggle", methods=["POST"])
def toggle_rule(rule_id: int) -> BaseResponse:
    """Switch a rule on or off; a rule that no longer validates (a plugin is gone) says why."""
    try:
        with action() as uow:
            rule = rule_service.get_rule(uow, rule_id)
            kind, name, enabled = rule.kind, rule.name, not rule.enabled
            rule_service.update_rule(uow, rule_id, {"enabled": enabled})
    except NotFound:
        return missing_rule(rule_id)
    except ValidationError as exc:
        flash(f"{name} was not changed: " + "; ".join(f"{k}: {' '.join(m)}" for k, m in exc.errors.items()), "danger")
        return back_to(kind)
    flash(f"{name} is {'enabled' if enabled else 'disabled'}.", "success")
    return back_to(kind)


@bp.route("/automation/<int:rule_id>/move", methods=["POST"])
def move_rule(rule_id: int) -> BaseResponse:
    """Move a rule one place earlier (``direction=up``) or later in its kind's evaluation order."""
    step = -1 if text("direction") == "up" else 1
    try:
        with action() as uow:
            rule = rule_service.get_rule(uow, rule_id)
            kind, name = rule.kind, rule.name
            order = [r.id for r in rule_service.list_rules(uow, kind)]
            target = order.index(rule_id) + 1 + step
            if 1 <= target <= len(order):
                rule_service.move_rule(uow, rule_id, target)
    except NotFound:
        return missing_rule(rule_id)
    flash(f"{name} is now number {min(max(target, 1), len(order))}.", "success")
    return back_to(kind)


@bp.route("/automation/<int:rule_id>/delete", methods=["POST"])
def delete_rule(rule_id: int) -> BaseResponse | tuple[str, int]:
    """Delete a rule once confirmed (``confirm=yes``); without it, ask first. Its log entries stay."""
    try:
        with action() as uow:
            rule = rule_service.get_rule(uow, rule_id)
            kind, name = rule.kind, rule.name
            if not confirmed():
                singular, plural, anchor = KINDS[kind]
                return confirm_page(
                    singular.lower(),
                    name,
                    "The tickets' automation log keeps what it did.",
                    plural,
                    url_for("admin.automation", _anchor=anchor),
                    page=CONFIRM_PAGE,
                )
            rule_service.delete_rule(uow, rule_id)
    except NotFound:
        return missing_rule(rule_id)
    flash(f"{name} was deleted.", "success")
    return back_to(kind)


@bp.route("/automation/export")
def export_rules() -> Response:
    """Download the rules and shared macros as YAML, to keep in version control or copy to another desk."""
    with reading() as uow:
        document = export_yaml(uow)
    return Response(
        document,
        mimetype="application/yaml",
        headers={"Content-Disposition": 'attachment; filename="frontdesk-automation.yaml"'},
    )


@bp.route("/automation/import", methods=["POST"])
def import_rules() -> BaseResponse | tuple[str, int]:
    """Create or update rules and shared macros from an uploaded YAML file; on any error nothing changes."""
    replace = checked("replace")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_rules({"file": ["choose a YAML file to import"]}, replace, status=422)
    raw = upload.read(MAX_IMPORT + 1)
    if len(raw) > MAX_IMPORT:
        return render_rules({"file": [f"the file is larger than {MAX_IMPORT // 1_000_000} MB"]}, replace, status=422)
    try:
        document = raw.decode("utf-8")
    except UnicodeDecodeError:
        return render_rules({"file": ["the file is not UTF-8 text"]}, replace, status=422)
    try:
        with action() as uow:
            counts = import_yaml(uow, document, replace=replace)
    except ValidationError as exc:
        return render_rules(exc.errors, replace, status=422)
    except Conflict as exc:
        return render_rules({"file": [exc.message]}, replace, status=409)
    flash(
        f"Imported {upload.filename}: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['deleted']} deleted.",
        "success",
    )
    return redirect(url_for("admin.automation"))


# --- Rules: the form ----------------------------------------------------------------------------


def rule_form(data: dict[str, Any], palette: Palette) -> dict[str, Any]:
    """A stored rule (``rule_data``) as its form shows it."""
    known = dict(KNOWN_EVENTS)
    return {
        "name": data["name"],
        "description": data["description"],
        "enabled": data["enabled"],
        "kind": data["kind"],
        "events": [e for e in data["events"] if e in known],
        "events_other": ", ".join(e for e in data["events"] if e not in known),
        "match": data["match"],
        "conditions": [condition_row(c) for c in data["conditions"]],
        "actions": [action_row(a, palette) for a in data["actions"]],
    }


def blank_rule(kind: str) -> dict[str, Any]:
    return {
        "name": "",
        "description": "",
        "enabled": True,
        "kind": kind,
        "events": ["ticket.created"] if kind == RuleKind.TRIGGER else [],
        "events_other": "",
        "match": "all",
        "conditions": [],
        "actions": [],
    }


def posted_rule(kind: str, palette: Palette) -> tuple[dict[str, Any], str]:
    """The rule form as typed, after the add/remove row button that sent it (if one did); and the intent."""
    what, section, index = intent()
    form = {
        "name": text("name"),
        "description": text("description"),
        "enabled": checked("enabled"),
        "kind": kind,
        "events": request.form.getlist("events"),
        "events_other": text("events_other"),
        "match": text("match") or "all",
        "conditions": posted_conditions(index if section == "conditions" else None),
        "actions": posted_actions(index if section == "actions" else None, palette),
    }
    if what == "add" and section == "conditions":
        form["conditions"].append({"field": "", "op": "", "value": ""})
    if what == "add" and section == "actions":
        form["actions"].append(blank_action("", palette))
    return form, what


def rule_payload(form: dict[str, Any], palette: Palette, *, creating: bool) -> dict[str, Any]:
    """The service's input for a typed rule form."""
    events = list(dict.fromkeys([*form["events"], *split(form["events_other"])]))
    data = {
        "name": form["name"],
        "description": form["description"],
        "enabled": form["enabled"],
        "events": events if form["kind"] == RuleKind.TRIGGER else [],
        "match": form["match"],
        "conditions": [condition_data(row, palette) for row in form["conditions"]],
        "actions": [action_data(row, palette) for row in form["actions"]],
    }
    if creating:
        data["kind"] = form["kind"]
    return data


def render_rule(
    kind: str,
    rule_id: int | None,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
    *,
    palette: Palette | None = None,
    matches: list[dict[str, Any]] | None = None,
) -> tuple[str, int]:
    """The rule form (new when ``rule_id`` is None), with errors next to their inputs and dry-run results."""
    palette = palette or Palette.of_desk()
    if form is None:
        if rule_id is None:
            form = blank_rule(kind)
        else:
            with reading() as uow:
                form = rule_form(rule_service.rule_data(rule_service.get_rule(uow, rule_id)), palette)
    if not form["actions"]:
        form["actions"] = [blank_action("", palette)]
    if not form["conditions"] and kind == RuleKind.TIME:
        form["conditions"] = [{"field": "", "op": "", "value": ""}]
    slots = row_slots(form, palette) | {"name", "description", "enabled", "kind", "events", "match"}
    singular, plural, anchor = KINDS[kind]
    html = render_template(
        "admin/automation_rule.html",
        kind=kind,
        singular=singular,
        plural=plural,
        anchor=anchor,
        rule_id=rule_id,
        form=form,
        errors=place_errors(errors or {}, slots),
        slots=sorted(slots),
        conflict=conflict,
        palette=palette,
        known_events=KNOWN_EVENTS,
        matches=matches,
        placeholder_hint=PLACEHOLDER_HINT,
        action_url=url_for("admin.rule", rule_id=rule_id) if rule_id else url_for("admin.new_rule", kind=kind),
    )
    return html, status


def handle_rule_form(kind: str, rule_id: int | None) -> BaseResponse | tuple[str, int]:
    """Save, dry-run, or just show again with a row added or removed (the buttons work without scripts)."""
    palette = Palette.of_desk()
    form, what = posted_rule(kind, palette)
    again = partial(render_rule, kind, rule_id, palette=palette)
    if what in ("add", "remove", "refresh"):
        return again(form)
    try:
        data = rule_payload(form, palette, creating=rule_id is None)
    except ValidationError as exc:
        return again(form, exc.errors, status=422)
    if what == "dry_run":
        try:
            with reading() as uow:
                probe = {key: data[key] for key in ("events", "match", "conditions")}  # only conditions matter
                found = rule_service.dry_run(uow, {**probe, "kind": kind})
                matches = [{"number": t.number, "subject": t.subject, "status": t.status.name} for t in found]
        except ValidationError as exc:
            return again(form, exc.errors, status=422)
        return again(form, matches=matches)
    if rule_id is None:
        submit(lambda uow: rule_service.create_rule(uow, data), again, form)
    else:
        submit(lambda uow: rule_service.update_rule(uow, rule_id, data), again, form)
    flash(f"{KINDS[kind][0]} {form['name'].strip()} was saved.", "success")
    return back_to(kind)


@bp.route("/automation/new", methods=["GET", "POST"])
def new_rule() -> BaseResponse | tuple[str, int]:
    """The form for a new trigger or time rule (``?kind=trigger|time``)."""
    kind = request.values.get("kind", RuleKind.TRIGGER.value)
    if kind not in KINDS:
        kind = RuleKind.TRIGGER.value
    if request.method == "GET":
        return render_rule(kind, None)
    return handle_rule_form(kind, None)


@bp.route("/automation/<int:rule_id>", methods=["GET", "POST"])
def rule(rule_id: int) -> BaseResponse | tuple[str, int]:
    """Edit a rule: its events, conditions and actions; dry-run it against the open tickets before saving."""
    try:
        with reading() as uow:
            kind = rule_service.get_rule(uow, rule_id).kind
    except NotFound:
        return missing_rule(rule_id)
    if request.method == "GET":
        return render_rule(kind, rule_id)
    return handle_rule_form(kind, rule_id)


# --- Shared macros ------------------------------------------------------------------------------


def macro_types(name: str) -> bool:
    """The action types a macro may use: the same choice ``services.macros`` validates with."""
    return macro_service.allowed_in_macros(name)


@bp.route("/automation/macros")
def macros() -> tuple[str, int]:
    """The shared macros every agent can apply (admins' and agents' personal ones are not listed)."""
    with reading() as uow:
        shared = [m for m in macro_service.list_macros(uow) if m.owner_id is None]
        html = render_template("admin/macros.html", macros=shared)
    return html, 200


def render_macro(
    macro_id: int | None,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
    *,
    palette: Palette | None = None,
) -> tuple[str, int]:
    palette = palette or Palette.of_desk(macro_types)
    if form is None:
        form = {"name": "", "description": "", "body": "", "public": True, "actions": []}
        if macro_id is not None:
            with reading() as uow:
                macro = macro_service.get_macro(uow, macro_id)
                form = {
                    "name": macro.name,
                    "description": macro.description,
                    "body": macro.body,
                    "public": macro.public,
                    "actions": [action_row(a, palette) for a in macro.actions],
                }
    if not form["actions"]:
        form["actions"] = [blank_action("", palette)]
    slots = row_slots(form, palette) | {"name", "description", "body", "public"}
    html = render_template(
        "admin/macros_edit.html",
        macro_id=macro_id,
        form=form,
        errors=place_errors(errors or {}, slots),
        slots=sorted(slots),
        conflict=conflict,
        palette=palette,
        placeholder_hint=PLACEHOLDER_HINT,
        action_url=url_for("admin.macro", macro_id=macro_id) if macro_id else url_for("admin.new_macro"),
    )
    return html, status


def handle_macro_form(macro_id: int | None) -> BaseResponse | tuple[str, int]:
    palette = Palette.of_desk(macro_types)
    what, section, index = intent()
    form: dict[str, Any] = {
        "name": text("name"),
        "description": text("description"),
        "body": text("body"),
        "public": text("public") != "internal",
        "actions": posted_actions(index if section == "actions" else None, palette),
    }
    again = partial(render_macro, macro_id, palette=palette)
    if what == "add":
        form["actions"].append(blank_action("", palette))
    if what in ("add", "remove", "refresh"):
        return again(form)
    try:
        data = {key: form[key] for key in ("name", "description", "body", "public")}
        data["actions"] = [action_data(row, palette) for row in form["actions"]]
    except ValidationError as exc:
        return again(form, exc.errors, status=422)
    if macro_id is None:
        submit(lambda uow: macro_service.create_macro(uow, {**data, "shared": True}), again, form)
    else:
        submit(lambda uow: macro_service.update_macro(uow, macro_id, data), again, form)
    flash(f"Macro {form['name'].strip()} was saved.", "success")
    return redirect(url_for("admin.macros"))


def missing_macro(macro_id: int) -> BaseResponse:
    flash(f"There is no shared macro #{macro_id} any more; it may have been deleted.", "warning")
    return redirect(url_for("admin.macros"))


def shared_macro(macro_id: int) -> bool:
    """Whether ``macro_id`` is a shared macro (an admin's personal macros are edited in the workspace)."""
    try:
        with reading() as uow:
            return macro_service.get_macro(uow, macro_id).owner_id is None
    except NotFound:
        return False


@bp.route("/automation/macros/new", methods=["GET", "POST"])
def new_macro() -> BaseResponse | tuple[str, int]:
    """The form for a new shared macro: a reply or note with placeholders, and field changes."""
    if request.method == "GET":
        return render_macro(None)
    return handle_macro_form(None)


@bp.route("/automation/macros/<int:macro_id>", methods=["GET", "POST"])
def macro(macro_id: int) -> BaseResponse | tuple[str, int]:
    """Edit a shared macro."""
    if not shared_macro(macro_id):
        return missing_macro(macro_id)
    if request.method == "GET":
        return render_macro(macro_id)
    return handle_macro_form(macro_id)


@bp.route("/automation/macros/<int:macro_id>/delete", methods=["POST"])
def delete_macro(macro_id: int) -> BaseResponse | tuple[str, int]:
    """Delete a shared macro once confirmed (``confirm=yes``); without it, ask first."""
    if not shared_macro(macro_id):
        return missing_macro(macro_id)
    with action() as uow:
        name = macro_service.get_macro(uow, macro_id).name
        if not confirmed():
            back = url_for("admin.macros")
            consequence = "Agents can no longer apply it."
            return confirm_page("shared macro", name, consequence, "Shared macros", back, page=CONFIRM_PAGE)
        macro_service.delete_macro(uow, macro_id)
    flash(f"Macro {name} was deleted.", "success")
    return redirect(url_for("admin.macros"))


# --- Notification texts -------------------------------------------------------------------------


def render_notifications(
    failed: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Every notification kind with its current wording; ``failed`` names the one whose form comes back."""
    items = []
    with reading() as uow:
        for kind, default in notifications.DEFAULT_TEMPLATES.items():
            current = notifications.template_for(uow, kind)
            items.append(
                {
                    "kind": kind,
                    "anchor": "tpl-" + kind.replace(".", "-"),
                    "audience": default.audience,
                    "default": default,
                    "custom": (current.subject, current.body) != (default.subject, default.body),
                    "form": form if kind == failed and form else {"subject": current.subject, "body": current.body},
                    "errors": (errors or {}) if kind == failed else {},
                    "conflict": conflict if kind == failed else None,
                }
            )
    html = render_template("admin/notifications.html", items=items, placeholders=PLACEHOLDERS)
    return html, status


@bp.route("/automation/notifications")
def notifications_page() -> tuple[str, int]:
    """The wording of every notification the desk sends, editable, with the defaults and placeholders."""
    return render_notifications()


@bp.route("/automation/notifications/<kind>", methods=["POST"])
def notification(kind: str) -> BaseResponse | tuple[str, int]:
    """Save one notification's subject and body (``intent=save``) or go back to the default (``intent=reset``)."""
    if kind not in notifications.DEFAULT_TEMPLATES:
        abort(404)
    anchor = "tpl-" + kind.replace(".", "-")
    if request.form.get("intent") == "reset":
        with action() as uow:
            notifications.reset_template(uow, kind)
        flash(f"{kind} uses the default text again.", "success")
        return redirect(url_for("admin.notifications_page", _anchor=anchor))
    form = {"subject": text("subject"), "body": text("body")}
    submit(
        lambda uow: notifications.set_template(uow, kind, form["subject"], form["body"]),
        partial(render_notifications, kind),
        form,
    )
    flash(f"The text of {kind} was saved.", "success")
    return redirect(url_for("admin.notifications_page", _anchor=anchor))
