"""The admin console (``/admin``): plugins and their settings, API tokens; people, workflow, automation and
jobs live in :mod:`frontdesk_webui.admin_people`, :mod:`~frontdesk_webui.admin_workflow`,
:mod:`~frontdesk_webui.admin_automation` and :mod:`~frontdesk_webui.admin_jobs` (same blueprint).
"""

from __future__ import annotations

from typing import Any

import marshmallow
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from frontdesk.errors import Conflict, NotFound, PluginError, ValidationError
from frontdesk.models import PluginState
from frontdesk.permissions import SYSTEM
from frontdesk.plugins import PluginStatus
from frontdesk.services import plugins as plugin_service
from frontdesk.services import tokens as token_service
from frontdesk_webui import (  # noqa: F401 (their routes join the blueprint)
    admin_automation,
    admin_jobs,
    admin_people,
    admin_workflow,
)
from frontdesk_webui.admin_base import CONFIRM_PAGE, SOURCE, action, bp, me, number, reading, text
from frontdesk_webui.confirm import confirm_page, confirmed
from frontdesk_webui.context import desk, desk_settings

__all__ = ["bp"]


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html")


# --- Plugins ----------------------------------------------------------------------------------


def plugin_rows() -> list[dict[str, Any]]:
    """Every installed plugin as the page shows it: its info, its state in this process, what it allows."""
    the_desk = desk()
    with the_desk.db.reading() as session:
        decisions = {row.name: row.enabled for row in session.scalars(select(PluginState))}
    muted = the_desk.plugins.calls.muted
    with_settings = set(the_desk.plugins.calls.per_plugin("frontdesk_register_settings"))
    rows = []
    for name, info in sorted(the_desk.plugins.infos.items()):
        row = info.as_dict()
        loaded = info.status is PluginStatus.ENABLED
        if loaded and name in muted:
            row["status"] = "disabled"
        # Enabled since start-up but not loaded in this process: it loads at the next restart.
        row["restart_needed"] = not loaded and info.status is PluginStatus.DISABLED and decisions.get(name) is True
        row["can_disable"] = row["status"] == "enabled" and not info.essential
        row["can_enable"] = row["status"] == "disabled" and not row["restart_needed"]
        row["has_settings"] = row["status"] == "enabled" and name in with_settings
        rows.append(row)
    return rows


@bp.route("/plugins")
def plugins() -> str:
    return render_template("admin/plugins.html", plugins=plugin_rows())


@bp.route("/plugins/<name>/enable", methods=["POST"])
def enable_plugin(name: str) -> Response:
    the_desk = desk()
    was_loaded = name in the_desk.plugins.infos and the_desk.plugins.infos[name].status is PluginStatus.ENABLED
    try:
        plugin_service.enable_plugin(the_desk, me(), name, source=SOURCE)
    except (PluginError, Conflict) as exc:
        flash(exc.message, "danger")
    else:
        if was_loaded:
            flash(f"Plugin {name!r} is enabled.", "success")
        else:
            flash(f"Plugin {name!r} is enabled; restart `frontdesk serve` to load it.", "warning")
    return redirect(url_for("admin.plugins"))


@bp.route("/plugins/<name>/disable", methods=["POST"])
def disable_plugin(name: str) -> Response:
    try:
        plugin_service.disable_plugin(desk(), me(), name, source=SOURCE)
    except (PluginError, Conflict) as exc:
        flash(exc.message, "danger")
    else:
        flash(f"Plugin {name!r} is disabled; its data stays.", "success")
    return redirect(url_for("admin.plugins"))


def input_kind(field: marshmallow.fields.Field) -> str:
    if isinstance(field, marshmallow.fields.Boolean):
        return "checkbox"
    if isinstance(field, marshmallow.fields.Integer):
        return "number"
    if choices(field):
        return "choice"
    return "text"


def choices(field: marshmallow.fields.Field) -> list[str]:
    """The values a setting may take, when its schema names them (a ``OneOf`` validator): shown as a select."""
    validators = field.validators if isinstance(field.validators, list | tuple) else [field.validators]
    found = next((v for v in validators if isinstance(v, marshmallow.validate.OneOf)), None)
    return [str(choice) for choice in found.choices] if found else []


@bp.route("/settings", methods=["GET", "POST"])
def desk_settings_page() -> str | Response | tuple[str, int]:
    """The desk's own settings (name, sign-up policy): the web layer's settings form."""
    return plugin_settings("webui")


def setting_value(kind: str, raw: str | None) -> Any:
    if kind == "checkbox":
        return raw is not None
    if kind == "number":
        return number(raw or "")
    return raw or ""


@bp.route("/plugins/<name>/settings", methods=["GET", "POST"])
def plugin_settings(name: str) -> str | Response | tuple[str, int]:
    """A form generated from the plugin's settings schema; each changed key is saved with ``set_setting``."""
    the_desk = desk()
    try:
        schema = plugin_service.settings_schema(the_desk, name)
    except PluginError:
        abort(404)
    if schema is None or name in the_desk.plugins.calls.muted:
        abort(404)
    with reading() as uow:
        current = plugin_service.get_settings(uow, name)
    fields = [
        {
            "name": key,
            "kind": input_kind(field),
            "label": key.replace("_", " ").capitalize(),
            "choices": choices(field),
            "hint": field.metadata.get("description"),
        }
        for key, field in schema.fields.items()
    ]
    values = dict(current)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {f["name"]: setting_value(f["kind"], request.form.get(f["name"])) for f in fields}
        changed = [f["name"] for f in fields if values[f["name"]] != current.get(f["name"])]
        try:
            with action() as uow:
                for key in changed:
                    try:
                        plugin_service.set_setting(uow, name, key, values[key])
                    except ValidationError as exc:
                        for field, messages in exc.errors.items():
                            errors.setdefault(field, []).extend(messages)
                if errors:
                    raise ValidationError(errors)  # nothing is saved when one value is refused
        except ValidationError as exc:
            errors = errors or exc.errors
        else:
            flash(f"Settings of {name!r} saved." if changed else "Nothing changed.", "success")
            if name == "webui":
                desk_settings().forget()
                return redirect(url_for("admin.desk_settings_page"))
            return redirect(url_for("admin.plugin_settings", name=name))
    info = the_desk.plugins.get(name)
    page = render_template("admin/plugin_settings.html", info=info, fields=fields, values=values, errors=errors)
    return (page, 422) if errors else page


# --- API tokens -------------------------------------------------------------------------------


def render_tokens(
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    secret: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    owner = request.args.get("user", "").strip()
    problem = None
    try:
        if owner:
            with reading() as uow:
                rows = token_service.list_tokens(uow, owner)
        else:
            # Every user's tokens: the service lists them all for the system; this page is for admins only.
            with desk().reading(SYSTEM) as uow:
                rows = token_service.list_tokens(uow)
    except NotFound as exc:
        rows, problem = [], exc.message
    form = form or {"user": owner, "name": "API token", "scope": "read", "expires_in_days": ""}
    page = render_template(
        "admin/tokens.html",
        tokens=rows,
        owner=owner,
        problem=problem,
        form=form,
        errors=errors or {},
        secret=secret,
        scopes=["read", "write", "admin"],
    )
    return page, status


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> tuple[str, int]:
    if request.method == "GET":
        return render_tokens()
    form = {k: text(k) for k in ("user", "name", "scope", "expires_in_days")}
    data = {
        "user": form["user"],
        "name": form["name"],
        "scope": form["scope"],
        "expires_in_days": number(form["expires_in_days"]),
    }
    try:
        with action() as uow:
            token, secret = token_service.create_token(uow, data)
            label = f"{token.name} ({token.prefix}…) for {token.user.email}"
    except ValidationError as exc:
        return render_tokens(form, exc.errors, status=422)
    flash(f"Token {label} created.", "success")
    return render_tokens(secret=secret)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int) -> Response | tuple[str, int]:
    """Revoke an API token once confirmed (``confirm=yes``); without it, ask first: revoking is for good."""
    if not confirmed():
        with reading() as uow:
            token = token_service.get_token(uow, token_id)
            name = f"{token.name} ({token.prefix}…) of {token.user.email}"
        consequence = "Programs using it are refused from then on; it stays listed as revoked."
        back = url_for("admin.tokens", user=request.args.get("user") or None)
        return confirm_page("API token", name, consequence, "API tokens", back, page=CONFIRM_PAGE, verb="Revoke")
    with action() as uow:
        token = token_service.revoke_token(uow, token_id)
        flash(f"Token {token.name} ({token.prefix}…) revoked.", "success")
    return redirect(url_for("admin.tokens", user=request.args.get("user") or None))
