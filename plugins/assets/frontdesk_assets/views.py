"""Pages under ``/assets``: the list, an asset's page, forms and dialogs, types, CSV upload, a person's assets.

Every page needs a signed-in user with ``assets.view`` (agents, admins), except ``/assets/mine``, a
requester's own equipment. Forms call the services; refused input comes back as a message.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from frontdesk.db import utcnow
from frontdesk.errors import Conflict, FrontdeskError, NotFound, ValidationError
from frontdesk.models import User
from frontdesk.services.people import user_by_id
from frontdesk.services.tickets import get_ticket
from frontdesk.uow import UnitOfWork
from frontdesk_assets import alerts, asset_types, cmdb, inventory, licences
from frontdesk_assets.api import uploaded_lines
from frontdesk_assets.graph import impact_svg
from frontdesk_assets.history import history_of
from frontdesk_assets.inventory import AssetFilter
from frontdesk_assets.lifecycle import RELATION_LABELS, STATUS_LABELS, TRANSITIONS, RelationKind, Status
from frontdesk_assets.schemas import ATTRIBUTE_KINDS, CATEGORIES, EDITABLE
from frontdesk_assets.transfer_csv import export_csv, import_csv
from frontdesk_webui.confirm import confirm_page, confirmed
from frontdesk_webui.context import desk

bp = Blueprint("assets", __name__, url_prefix="/assets", template_folder="templates")
SOURCE = "web"
PAGE_SIZE = 50
OWN_PAGES = {"assets.mine"}


WORK_PAGES = {"assets.link_ticket", "assets.link_from_ticket", "assets.unlink_ticket"}


@bp.before_request
@login_required
def inventory_readers_only() -> None:
    """The inventory is for people holding ``assets.view``; a requester only sees their own equipment.

    Forms change things: they need ``assets.manage``, or ``tickets.work`` to link tickets, checked
    before the input is (the services check again).
    """
    can = desk().permissions.can
    if request.endpoint in OWN_PAGES:
        return
    if not can(me(), asset_types.VIEW):
        abort(403)
    if request.method == "POST":
        needed = "tickets.work" if request.endpoint in WORK_PAGES else asset_types.MANAGE
        if not can(me(), needed):
            abort(403)


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "relation_labels": RELATION_LABELS,
        "can_manage": desk().permissions.can(me(), asset_types.MANAGE),
    }


def me() -> User:
    """The signed-in user as a plain object, for services."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def act(action: Callable[[UnitOfWork], str | None], back: str) -> Response:
    """Run a change; on refused input flash the reason. Either way go back to ``back``."""
    try:
        with desk().action(me(), source=SOURCE) as uow:
            message = action(uow)
    except (ValidationError, Conflict, NotFound) as exc:  # a mistyped tag or number: say so, stay on the page
        flash(exc.message, "danger")
    else:
        if message:
            flash(message, "success")
    return redirect(back)


# --- list --------------------------------------------------------------------------------------


@bp.route("/")
def index() -> str:
    """The asset list: filters, search, warnings, keyset pages of 50."""
    args = request.args
    filters = AssetFilter(
        type=args.get("type") or None,
        status=args.get("status") or None,
        q=args.get("q") or None,
        warning=args.get("warning") or None,
    )
    cursor = args.get("cursor", type=int)
    with desk().reading(me()) as uow:
        types = asset_types.type_names(uow)
        try:
            page = inventory.list_assets(uow, filters, cursor=cursor, limit=PAGE_SIZE)
        except FrontdeskError as exc:
            flash(exc.message, "danger")
            page = inventory.AssetPage([], None)
        counts = warning_counts(uow)
        return render_template(
            "assets/list.html", page=page, types=types, filters=filters, counts=counts, cursor=cursor
        )


def warning_counts(uow: UnitOfWork) -> dict[str, int]:
    """How many loans are overdue and how many warranties end soon (each stops counting at 1000)."""
    counts = inventory.count_assets(uow, [AssetFilter(warning=kind) for kind in alerts.KINDS], up_to=1000)
    return dict(zip(alerts.KINDS, counts, strict=True))


@bp.route("/people/<int:user_id>")
def person(user_id: int) -> str:
    """A person's assets and licence seats."""
    with desk().reading(me()) as uow:
        holder = user_by_id(uow, user_id)
        assets = inventory.assets_of(uow, user_id)
        return render_template("assets/person.html", holder=holder, assets=assets)


@bp.route("/mine")
def mine() -> str:
    """The signed-in person's equipment."""
    with desk().reading(me()) as uow:
        assets = inventory.assets_of(uow, me().id)
        return render_template("assets/mine.html", assets=assets)


# --- one asset ---------------------------------------------------------------------------------


@bp.route("/items/<tag>")
def detail(tag: str) -> str:
    """An asset: fields, warnings, history, tickets, relations, impact list and picture, and its actions."""
    direction = request.args.get("direction", cmdb.Direction.IMPACT)
    depth = request.args.get("depth", 3, type=int)
    with desk().reading(me()) as uow:
        asset = inventory.get_asset(uow, tag)
        outgoing, incoming = cmdb.relations_of(uow, asset)
        open_tickets, past_tickets = cmdb.tickets_of(uow, asset)
        try:
            walk = cmdb.impact(uow, tag, direction, depth)
        except ValidationError as exc:
            flash(exc.message, "danger")
            walk = cmdb.impact(uow, tag)
        seats = licences.seats_of(uow, tag) if asset.type.category == "licence" else []
        today = utcnow().date()
        return render_template(
            "assets/detail.html",
            asset=asset,
            history=history_of(uow, asset),
            outgoing=outgoing,
            incoming=incoming,
            open_tickets=open_tickets,
            past_tickets=past_tickets,
            walk=walk,
            graph=impact_svg(walk),
            seats=seats,
            warnings=alerts.warnings_for(asset, today, alerts.warranty_days(uow)),
            next_statuses=sorted(TRANSITIONS[Status(asset.status)]),
            kinds=[k.value for k in RelationKind],
        )


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | Response | tuple[str, int]:
    """Record an asset of the chosen type."""
    type_key = request.values.get("type", "laptop")
    with desk().reading(me()) as uow:
        asset_type = asset_types.read_type(uow, type_key)
    if request.method == "GET":
        return render_template("assets/form.html", asset_type=asset_type, asset=None, form={}, errors={})
    data = submitted(asset_type, creating=True)
    try:
        with desk().action(me(), source=SOURCE) as uow:
            tag = inventory.create_asset(uow, type_key, data).asset_tag
    except ValidationError as exc:
        return render_template(
            "assets/form.html", asset_type=asset_type, asset=None, form=request.form, errors=exc.errors
        ), 422
    flash(f"Recorded {tag}.", "success")
    return redirect(url_for("assets.detail", tag=tag))


@bp.route("/items/<tag>/edit", methods=["GET", "POST"])
def edit(tag: str) -> str | Response | tuple[str, int]:
    """Change an asset's fields and attributes."""
    with desk().reading(me()) as uow:
        asset = inventory.get_asset(uow, tag)
        asset_type = asset_types.read_type(uow, asset.type.key)
    if request.method == "GET":
        return render_template("assets/form.html", asset_type=asset_type, asset=asset, form=None, errors={})
    try:
        with desk().action(me(), source=SOURCE) as uow:
            inventory.update_asset(uow, tag, submitted(asset_type, creating=False))
    except ValidationError as exc:
        return render_template(
            "assets/form.html", asset_type=asset_type, asset=asset, form=request.form, errors=exc.errors
        ), 422
    flash(f"Saved {tag}.", "success")
    return redirect(url_for("assets.detail", tag=tag))


TEXT_FIELDS = ("name", "model", "manufacturer", "location", "vendor", "notes")


def submitted(asset_type: Any, *, creating: bool) -> dict[str, Any]:
    """The asset form as service input: fields the form has; empty ones left out on create, cleared on edit."""
    names = (*EDITABLE, "asset_tag", "status", "assigned_to") if creating else EDITABLE
    data: dict[str, Any] = {}
    for name in names:
        if name not in request.form:
            continue
        value = request.form[name].strip()
        if value:
            data[name] = value
        elif not creating:
            data[name] = "" if name in TEXT_FIELDS else None
    data["attributes"] = {a.name: request.form.get(f"attr.{a.name}", "").strip() for a in asset_type.attributes}
    return data


@bp.route("/items/<tag>/status", methods=["POST"])
def change_status(tag: str) -> Response:
    """Move the asset to another status."""
    status = request.form.get("status", "")
    return act(
        lambda uow: f"{inventory.change_status(uow, tag, status).asset_tag} is now {STATUS_LABELS[status].lower()}.",
        url_for("assets.detail", tag=tag),
    )


@bp.route("/items/<tag>/checkout", methods=["POST"])
def check_out(tag: str) -> Response:
    """The check-out dialog: to a person, with an optional return date; transfers when someone has it."""
    data = {
        "person": request.form.get("person", "").strip(),
        "expected_return": request.form.get("expected_return") or None,
    }

    return act(
        lambda uow: f"{inventory.hand_over(uow, tag, data).asset_tag} is with {data['person']}.",
        url_for("assets.detail", tag=tag),
    )


@bp.route("/items/<tag>/checkin", methods=["POST"])
def check_in(tag: str) -> Response:
    """The return dialog: back into stock."""
    return act(
        lambda uow: f"{inventory.check_in(uow, tag).asset_tag} is back in stock.", url_for("assets.detail", tag=tag)
    )


@bp.route("/items/<tag>/seats", methods=["POST"])
def add_seat(tag: str) -> Response:
    """Give a licence seat to a person or a device."""
    person, device = request.form.get("person", "").strip() or None, request.form.get("device", "").strip() or None

    def run(uow: UnitOfWork) -> str:
        licences.assign_seat(uow, tag, {"person": person, "device": device})
        return f"Seat given to {person or device}."

    return act(run, url_for("assets.detail", tag=tag))


@bp.route("/items/<tag>/seats/<int:seat_id>/release", methods=["POST"])
def release_seat(tag: str, seat_id: int) -> Response:
    """Take a seat back."""
    return act(lambda uow: licences.release_seat(uow, tag, seat_id) or "Seat freed.", url_for("assets.detail", tag=tag))


@bp.route("/items/<tag>/relations", methods=["POST"])
def add_relation(tag: str) -> Response:
    """Relate this item to another (either way round)."""
    other, kind = request.form.get("other", "").strip(), request.form.get("kind", "")
    ends = (tag, other) if request.form.get("end", "source") == "source" else (other, tag)

    def run(uow: UnitOfWork) -> str:
        cmdb.add_relation(uow, {"source": ends[0], "kind": kind, "target": ends[1]})
        return f"{ends[0]} {RELATION_LABELS.get(kind, kind)} {ends[1]}."

    return act(run, url_for("assets.detail", tag=tag))


@bp.route("/items/<tag>/relations/<int:relation_id>/remove", methods=["POST"])
def remove_relation(tag: str, relation_id: int) -> Response | tuple[str, int]:
    """Remove a relation of this item once confirmed (``confirm=yes``); without it, ask first."""
    if not confirmed():
        with desk().reading(me()) as uow:
            outgoing, incoming = cmdb.relations_of(uow, inventory.get_asset(uow, tag))
            relation = next((r for r in outgoing + incoming if r.id == relation_id), None)
            if relation is None:
                abort(404)
            name = f"{relation.source.asset_tag} {RELATION_LABELS[relation.kind]} {relation.target.asset_tag}"
        consequence = "Impact views no longer follow it; the item's history records the removal."
        return confirm_page("relation", name, consequence, tag, url_for("assets.detail", tag=tag), verb="Remove")
    return act(
        lambda uow: cmdb.remove_relation(uow, relation_id) or "Relation removed.", url_for("assets.detail", tag=tag)
    )


@bp.route("/items/<tag>/tickets", methods=["POST"])
def link_ticket(tag: str) -> Response:
    """Link a ticket to this item (from the asset page or the ticket's sidebar: ``next`` says where to go back)."""
    number = request.form.get("ticket", type=int)
    back = request.form.get("next", "")
    target = back if back.startswith("/agent/tickets/") else url_for("assets.detail", tag=tag)
    if number is None:
        flash("Give a ticket number.", "danger")
        return redirect(target)

    def run(uow: UnitOfWork) -> str:
        cmdb.link_ticket(uow, tag, number)
        return f"#{number} linked to {tag}."

    return act(run, target)


@bp.route("/tickets/<int:number>/link", methods=["POST"])
def link_from_ticket(number: int) -> Response:
    """The ticket sidebar's form: link the item with the typed tag to ticket ``number``."""
    tag = request.form.get("tag", "").strip()
    back = url_for("agent.ticket", number=number)

    def run(uow: UnitOfWork) -> str:
        cmdb.link_ticket(uow, tag, number)
        return f"{tag} linked to #{number}."

    return act(run, back)


@bp.route("/items/<tag>/tickets/<int:number>/unlink", methods=["POST"])
def unlink_ticket(tag: str, number: int) -> Response | tuple[str, int]:
    """Remove the link between this item and a ticket once confirmed (``confirm=yes``); without it, ask first."""
    back = request.form.get("next", "")
    target = back if back.startswith("/agent/tickets/") else url_for("assets.detail", tag=tag)
    if not confirmed():
        with desk().reading(me()) as uow:
            inventory.get_asset(uow, tag)
            get_ticket(uow, number)
        consequence = "The ticket no longer lists the item as affected; the item's history records the removal."
        fields = {"next": back} if back else None
        return confirm_page("link", f"{tag} ↔ #{number}", consequence, f"#{number}", target, fields, verb="Remove")
    return act(lambda uow: cmdb.unlink_ticket(uow, tag, number) or f"#{number} unlinked.", target)


# --- types and attributes ----------------------------------------------------------------------


@bp.route("/types", methods=["GET", "POST"])
def types() -> str | Response:
    """Asset types, and a form to define one."""
    if request.method == "POST":
        data = {k: request.form.get(k, "").strip() for k in ("key", "name", "prefix", "category")}
        return act(
            lambda uow: f"Type {asset_types.create_type(uow, data).name} defined.",
            url_for("assets.type_editor", key=data["key"]) if data["key"] else url_for("assets.types"),
        )
    with desk().reading(me()) as uow:
        return render_template("assets/types.html", types=asset_types.list_types(uow), categories=CATEGORIES)


@bp.route("/types/<key>", methods=["GET", "POST"])
def type_editor(key: str) -> str | Response:
    """One type's attributes: add, change flags and choices, remove; rename the type."""
    if request.method == "POST":
        data = {k: request.form.get(k, "").strip() for k in ("name", "prefix")}
        return act(
            lambda uow: f"Saved {asset_types.update_type(uow, key, data).name}.", url_for("assets.type_editor", key=key)
        )
    with desk().reading(me()) as uow:
        return render_template("assets/type.html", asset_type=asset_types.read_type(uow, key), kinds=ATTRIBUTE_KINDS)


@bp.route("/types/<key>/delete", methods=["POST"])
def delete_type(key: str) -> Response | tuple[str, int]:
    """Remove an admin-defined type no asset uses, once confirmed; the service refuses built-in and used types."""
    if not confirmed():
        with desk().reading(me()) as uow:
            name = asset_types.read_type(uow, key).name
        consequence = "Only a type that no asset uses is deleted; built-in types stay."
        return confirm_page("asset type", name, consequence, name, url_for("assets.type_editor", key=key))
    return act(
        lambda uow: asset_types.delete_type(uow, key) or f"Deleted type {key}.",
        url_for("assets.types"),
    )


def attribute_form() -> dict[str, Any]:
    """The attribute editor's fields as service input."""
    data: dict[str, Any] = {flag: flag in request.form for flag in ("required", "unique", "indexed")}
    for name in ("name", "label", "kind"):
        if request.form.get(name, "").strip():
            data[name] = request.form[name].strip()
    choices = [c.strip() for c in request.form.get("choices", "").split(",") if c.strip()]
    if choices or data.get("kind") == "choice" or "choices" in request.form:
        data["choices"] = choices
    return data


@bp.route("/types/<key>/attributes", methods=["POST"])
def add_attribute(key: str) -> Response:
    """Add an attribute to the type."""
    data = attribute_form()
    return act(
        lambda uow: f"Added {asset_types.add_attribute(uow, key, data).label}.", url_for("assets.type_editor", key=key)
    )


@bp.route("/types/<key>/attributes/<name>", methods=["POST"])
def update_attribute(key: str, name: str) -> Response:
    """Change an attribute's label, flags and choices."""
    data = {k: v for k, v in attribute_form().items() if k not in ("name", "kind")}
    return act(
        lambda uow: f"Saved {asset_types.update_attribute(uow, key, name, data).label}.",
        url_for("assets.type_editor", key=key),
    )


@bp.route("/types/<key>/attributes/<name>/remove", methods=["POST"])
def remove_attribute(key: str, name: str) -> Response | tuple[str, int]:
    """Remove an attribute and its values once confirmed (``confirm=yes``); without it, ask first."""
    if not confirmed():
        with desk().reading(me()) as uow:
            asset_type = asset_types.read_type(uow, key)
            label = next((a.label for a in asset_type.attributes if a.name == name), None)
            type_name = asset_type.name
        if label is None:
            abort(404)
        consequence = f"Every {type_name} asset loses its value for it."
        back = url_for("assets.type_editor", key=key)
        return confirm_page("attribute", label, consequence, type_name, back, verb="Remove")
    return act(
        lambda uow: asset_types.remove_attribute(uow, key, name) or f"Removed {name}.",
        url_for("assets.type_editor", key=key),
    )


# --- CSV ---------------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def upload() -> str | tuple[str, int]:
    """The CSV upload page: check a file (dry run) or import it, and see the errors by row."""
    with desk().reading(me()) as uow:
        types = asset_types.list_types(uow)
    if request.method == "GET":
        return render_template("assets/import.html", types=types, report=None)
    type_key = request.form.get("type", "")
    try:
        lines = uploaded_lines()
        with desk().action(me(), source=SOURCE) as uow:
            report = import_csv(
                uow,
                type_key,
                lines,
                dry_run="dry_run" in request.form,
                skip_invalid="skip_invalid" in request.form,
            )
    except ValidationError as exc:
        flash(exc.message, "danger")
        return render_template("assets/import.html", types=types, report=None), 422
    status = 422 if report.errors and not report.written and "dry_run" not in request.form else 200
    return render_template("assets/import.html", types=types, report=report, type_key=type_key), status


@bp.route("/export")
def export() -> Response:
    """Download one type's assets as CSV."""
    type_key = request.args.get("type", "")
    out = io.StringIO()
    with desk().reading(me()) as uow:
        export_csv(uow, type_key, out)
    headers = {"Content-Disposition": f'attachment; filename="assets-{type_key}.csv"'}
    return Response(out.getvalue(), mimetype="text/csv", headers=headers)
