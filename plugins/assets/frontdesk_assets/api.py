"""``/api/v1/assets``: assets, types and attributes, lifecycle, check-out, seats, relations, impact, tickets, CSV.

Reading needs ``assets.view`` (agents, admins), except ``/mine`` and the assets assigned to the caller;
changes need ``assets.manage`` and, with an API token, the ``write`` scope. Ticket links need
``tickets.work`` too. The services decide; this module translates HTTP.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk.errors import ValidationError
from frontdesk_assets import asset_types, cmdb, inventory, licences
from frontdesk_assets.history import history_of
from frontdesk_assets.inventory import AssetFilter
from frontdesk_assets.lifecycle import Status
from frontdesk_assets.lookups import Lookups
from frontdesk_assets.output import (
    AssetAttributeOutSchema,
    AssetHistoryOutSchema,
    AssetOutSchema,
    AssetRelationOutSchema,
    AssetSeatOutSchema,
    AssetTypeOutSchema,
)
from frontdesk_assets.schemas import (
    AssetAttributeSchema,
    AssetAttributeUpdateSchema,
    AssetCheckoutSchema,
    AssetFieldsSchema,
    AssetRelationSchema,
    AssetSeatSchema,
    AssetTypeSchema,
    AssetTypeUpdateSchema,
)
from frontdesk_assets.transfer_csv import export_csv, import_csv
from frontdesk_webui.api.auth import SAFE_METHODS, actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint(
    "assets",
    __name__,
    url_prefix="/api/v1/assets",
    description="Asset inventory and CMDB: assets, types, lifecycle, check-out, licence seats, relations, impact.",
)
SOURCE = "api"
MAX_UPLOAD_ROWS = 200_000


OWN_ENDPOINTS = {"assets_api.Assets", "assets_api.MyAssets", "assets_api.AssetItem"}
WORK_ENDPOINTS = {"assets_api.AssetTickets", "assets_api.unlink_ticket"}


@blp.before_request
def authorize() -> None:
    """Refuse who may not call before the input is validated (403 comes before 422).

    Every call needs a user. Reading needs ``assets.view`` except the caller's own assets; changes
    need ``assets.manage`` (``tickets.work`` to link tickets) and, with a token, the ``write`` scope.
    """
    user = require_actor()
    permissions = desk().permissions
    if request.method in SAFE_METHODS:
        if request.endpoint not in OWN_ENDPOINTS:
            permissions.require(user, asset_types.VIEW)
        return
    require_scope("write")
    if request.endpoint in WORK_ENDPOINTS:
        permissions.require(user, asset_types.VIEW)
        permissions.require(user, "tickets.work")
    else:
        permissions.require(user, asset_types.MANAGE)


# --- schemas of this API ---------------------------------------------------------------------


class AssetListArgs(Schema):
    type = fields.String(metadata={"description": "Asset type key (laptop, server...)"})
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    q = fields.String(metadata={"description": "Tag, serial, or part of the name or model"})
    assigned_to = fields.Email(metadata={"description": "Holder's e-mail address"})
    attribute = fields.String(metadata={"description": "An indexed attribute of the type, with value"})
    value = fields.String()
    warning = fields.String(validate=validate.OneOf(["overdue", "warranty"]))
    cursor = fields.Integer(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AssetPageSchema(Schema):
    """One page of assets; pass ``next_cursor`` as ``cursor`` for the next (null on the last page)."""

    items = fields.List(fields.Nested(AssetOutSchema))
    next_cursor = fields.Integer(allow_none=True)


class AssetCreateSchema(AssetFieldsSchema):
    type = fields.String(required=True, metadata={"description": "Asset type key"})


class AssetUpdateSchema(AssetFieldsSchema):
    class Meta:
        exclude = ("asset_tag", "status", "assigned_to", "expected_return")


class AssetStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))


class AssetImpactArgs(Schema):
    direction = fields.String(load_default="impact", validate=validate.OneOf(["impact", "dependencies"]))
    depth = fields.Integer(load_default=3, validate=validate.Range(min=1, max=cmdb.MAX_DEPTH))


class AssetImpactNodeSchema(Schema):
    asset_tag = fields.Function(lambda n: n.asset.asset_tag)
    name = fields.Function(lambda n: n.asset.name)
    depth = fields.Integer()
    via = fields.Function(lambda n: n.kind)


class AssetImpactSchema(Schema):
    asset_tag = fields.Function(lambda i: i.root.asset_tag)
    direction = fields.String()
    depth = fields.Integer()
    truncated = fields.Boolean()
    items = fields.Function(lambda i: AssetImpactNodeSchema(many=True).dump(i.nodes))


class AssetRelationsSchema(Schema):
    outgoing = fields.List(fields.Nested(AssetRelationOutSchema))
    incoming = fields.List(fields.Nested(AssetRelationOutSchema))


class AssetLinkedTicketSchema(Schema):
    number = fields.Integer()
    subject = fields.String()
    status_category = fields.String()


class AssetTicketsSchema(Schema):
    open = fields.List(fields.Nested(AssetLinkedTicketSchema))
    past = fields.List(fields.Nested(AssetLinkedTicketSchema))


class AssetTicketLinkSchema(Schema):
    ticket = fields.Integer(required=True, validate=validate.Range(min=1))


class AssetImportArgs(Schema):
    type = fields.String(required=True)
    dry_run = fields.Boolean(load_default=False)
    skip_invalid = fields.Boolean(load_default=False)


class AssetImportErrorSchema(Schema):
    row = fields.Integer()
    column = fields.String()
    message = fields.String()


class AssetImportReportSchema(Schema):
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    written = fields.Boolean()
    errors = fields.List(fields.Nested(AssetImportErrorSchema))


class AssetExportArgs(Schema):
    type = fields.String(required=True)


# --- assets ------------------------------------------------------------------------------------


@blp.route("/items")
class Assets(MethodView):
    @blp.arguments(AssetListArgs, location="query")
    @blp.response(200, AssetPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List the assets the caller may see, newest first (requesters: their own)."""
        with desk().reading(actor()) as uow:
            holder = None
            if args.get("assigned_to"):
                holder = Lookups(uow).user_id(args["assigned_to"]) or 0
            filters = AssetFilter(
                type=args.get("type"),
                status=args.get("status"),
                q=args.get("q"),
                assigned_to=holder,
                attribute=args.get("attribute"),
                value=args.get("value"),
                warning=args.get("warning"),
            )
            return inventory.list_assets(uow, filters, cursor=args.get("cursor"), limit=args["limit"])

    @blp.arguments(AssetCreateSchema)
    @blp.response(201, AssetOutSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Record an asset; without ``asset_tag`` it is numbered from its type's prefix."""
        type_key = data.pop("type")
        with desk().action(require_actor(), source=SOURCE) as uow:
            asset = inventory.create_asset(uow, type_key, data)
        return asset, 201, {"Location": f"/api/v1/assets/items/{asset.asset_tag}"}


@blp.route("/mine")
class MyAssets(MethodView):
    @blp.response(200, AssetOutSchema(many=True))
    def get(self) -> Any:
        """The assets assigned to the caller ("My equipment")."""
        user = require_actor()
        with desk().reading(user) as uow:
            return inventory.assets_of(uow, user.id)


@blp.route("/items/<tag>")
class AssetItem(MethodView):
    @blp.response(200, AssetOutSchema)
    def get(self, tag: str) -> Any:
        """One asset."""
        with desk().reading(actor()) as uow:
            return inventory.get_asset(uow, tag)

    @blp.arguments(AssetUpdateSchema(partial=True))
    @blp.response(200, AssetOutSchema)
    def patch(self, data: dict[str, Any], tag: str) -> Any:
        """Change fields and attributes (status and holder change through their own calls)."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            return inventory.update_asset(uow, tag, data)


def _asset_action(tag: str, action: Any, *args: Any) -> Any:
    with desk().action(require_actor(), source=SOURCE) as uow:
        return action(uow, tag, *args)


@blp.route("/items/<tag>/status", methods=["POST"])
@blp.arguments(AssetStatusSchema)
@blp.response(200, AssetOutSchema)
def change_status(data: dict[str, Any], tag: str) -> Any:
    """Move the asset to another lifecycle status (only allowed transitions)."""
    return _asset_action(tag, inventory.change_status, data["status"])


@blp.route("/items/<tag>/checkout", methods=["POST"])
@blp.arguments(AssetCheckoutSchema)
@blp.response(200, AssetOutSchema)
def check_out(data: dict[str, Any], tag: str) -> Any:
    """Check the asset out to a person, as a loan with ``expected_return``."""
    return _asset_action(tag, inventory.check_out, data)


@blp.route("/items/<tag>/checkin", methods=["POST"])
@blp.response(200, AssetOutSchema)
def check_in(tag: str) -> Any:
    """Take the asset back into stock."""
    return _asset_action(tag, inventory.check_in)


@blp.route("/items/<tag>/transfer", methods=["POST"])
@blp.arguments(AssetCheckoutSchema)
@blp.response(200, AssetOutSchema)
def transfer(data: dict[str, Any], tag: str) -> Any:
    """Give the checked-out asset to another person."""
    return _asset_action(tag, inventory.transfer, data)


@blp.route("/items/<tag>/history")
@blp.response(200, AssetHistoryOutSchema(many=True))
def history(tag: str) -> Any:
    """The asset's changes, newest first."""
    with desk().reading(actor()) as uow:
        uow.require(asset_types.VIEW)
        return history_of(uow, inventory.get_asset(uow, tag))


# --- licence seats -----------------------------------------------------------------------------


@blp.route("/items/<tag>/seats")
class Seats(MethodView):
    @blp.response(200, AssetSeatOutSchema(many=True))
    def get(self, tag: str) -> Any:
        """The seats of a licence and who holds them."""
        with desk().reading(actor()) as uow:
            return licences.seats_of(uow, tag)

    @blp.arguments(AssetSeatSchema)
    @blp.response(201, AssetSeatOutSchema)
    def post(self, data: dict[str, Any], tag: str) -> Any:
        """Give a seat to a person or a device; 409 when every seat is taken."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            return licences.assign_seat(uow, tag, data)


@blp.route("/items/<tag>/seats/<int:seat_id>", methods=["DELETE"])
@blp.response(204)
def release_seat(tag: str, seat_id: int) -> None:
    """Take a seat back."""
    with desk().action(require_actor(), source=SOURCE) as uow:
        licences.release_seat(uow, tag, seat_id)


# --- CMDB --------------------------------------------------------------------------------------


@blp.route("/items/<tag>/relations")
@blp.response(200, AssetRelationsSchema)
def relations(tag: str) -> Any:
    """The item's relations: from it (``outgoing``) and to it (``incoming``)."""
    with desk().reading(actor()) as uow:
        outgoing, incoming = cmdb.relations_of(uow, inventory.get_asset(uow, tag))
        return {"outgoing": outgoing, "incoming": incoming}


@blp.route("/relations", methods=["POST"])
@blp.arguments(AssetRelationSchema)
@blp.response(201, AssetRelationOutSchema)
def add_relation(data: dict[str, Any]) -> Any:
    """Relate two items: ``source`` <kind> ``target``."""
    with desk().action(require_actor(), source=SOURCE) as uow:
        return cmdb.add_relation(uow, data)


@blp.route("/relations/<int:relation_id>", methods=["DELETE"])
@blp.response(204)
def remove_relation(relation_id: int) -> None:
    """Remove a relation."""
    with desk().action(require_actor(), source=SOURCE) as uow:
        cmdb.remove_relation(uow, relation_id)


@blp.route("/items/<tag>/impact")
@blp.arguments(AssetImpactArgs, location="query")
@blp.response(200, AssetImpactSchema)
def impact(args: dict[str, Any], tag: str) -> Any:
    """What is affected if the item fails (``impact``), or what it depends on (``dependencies``)."""
    with desk().reading(actor()) as uow:
        return cmdb.impact(uow, tag, args["direction"], args["depth"])


@blp.route("/items/<tag>/tickets")
class AssetTickets(MethodView):
    @blp.response(200, AssetTicketsSchema)
    def get(self, tag: str) -> Any:
        """The item's open and past tickets (those the caller may see)."""
        with desk().reading(actor()) as uow:
            open_, past = cmdb.tickets_of(uow, inventory.get_asset(uow, tag))
            return {"open": open_, "past": past}

    @blp.arguments(AssetTicketLinkSchema)
    @blp.response(201, AssetTicketsSchema)
    def post(self, data: dict[str, Any], tag: str) -> Any:
        """Link a ticket to the item."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            cmdb.link_ticket(uow, tag, data["ticket"])
            open_, past = cmdb.tickets_of(uow, inventory.get_asset(uow, tag))
            return {"open": open_, "past": past}


@blp.route("/items/<tag>/tickets/<int:number>", methods=["DELETE"])
@blp.response(204)
def unlink_ticket(tag: str, number: int) -> None:
    """Remove the link between the item and a ticket."""
    with desk().action(require_actor(), source=SOURCE) as uow:
        cmdb.unlink_ticket(uow, tag, number)


# --- types and attributes ----------------------------------------------------------------------


@blp.route("/types")
class Types(MethodView):
    @blp.response(200, AssetTypeOutSchema(many=True))
    def get(self) -> Any:
        """Every asset type with its attribute schema."""
        with desk().reading(actor()) as uow:
            return asset_types.list_types(uow)

    @blp.arguments(AssetTypeSchema)
    @blp.response(201, AssetTypeOutSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Define an asset type (with its attributes)."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            return asset_types.create_type(uow, data)


@blp.route("/types/<key>")
class TypeItem(MethodView):
    @blp.response(200, AssetTypeOutSchema)
    def get(self, key: str) -> Any:
        """One asset type."""
        with desk().reading(actor()) as uow:
            return asset_types.read_type(uow, key)

    @blp.arguments(AssetTypeUpdateSchema(partial=True))
    @blp.response(200, AssetTypeOutSchema)
    def patch(self, data: dict[str, Any], key: str) -> Any:
        """Rename a type or change its tag prefix."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            return asset_types.update_type(uow, key, data)

    @blp.response(204)
    def delete(self, key: str) -> None:
        """Remove an admin-defined type no asset uses."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            asset_types.delete_type(uow, key)


@blp.route("/types/<key>/attributes", methods=["POST"])
@blp.arguments(AssetAttributeSchema)
@blp.response(201, AssetAttributeOutSchema)
def add_attribute(data: dict[str, Any], key: str) -> Any:
    """Add an attribute to a type."""
    with desk().action(require_actor(), source=SOURCE) as uow:
        return asset_types.add_attribute(uow, key, data)


@blp.route("/types/<key>/attributes/<name>")
class AttributeItem(MethodView):
    @blp.arguments(AssetAttributeUpdateSchema(partial=True))
    @blp.response(200, AssetAttributeOutSchema)
    def patch(self, data: dict[str, Any], key: str, name: str) -> Any:
        """Change an attribute's label, flags or choices."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            return asset_types.update_attribute(uow, key, name, data)

    @blp.response(204)
    def delete(self, key: str, name: str) -> None:
        """Remove an attribute and its values."""
        with desk().action(require_actor(), source=SOURCE) as uow:
            asset_types.remove_attribute(uow, key, name)


# --- CSV -----------------------------------------------------------------------------------------


@blp.route("/import", methods=["POST"])
@blp.arguments(AssetImportArgs, location="query")
@blp.response(200, AssetImportReportSchema)
@blp.alt_response(422, schema=AssetImportReportSchema, description="Some rows are invalid; nothing was written.")
def import_file(args: dict[str, Any]) -> Any:
    """Import a CSV file (multipart field ``file``, or the request body as ``text/csv``).

    Every row is checked first; nothing is written unless all pass (or ``skip_invalid``).
    """
    with desk().action(require_actor(), source=SOURCE) as uow:
        report = import_csv(
            uow, args["type"], uploaded_lines(), dry_run=args["dry_run"], skip_invalid=args["skip_invalid"]
        )
    body = AssetImportReportSchema().dump(report)
    return (body, 422) if report.errors and not report.written and not args["dry_run"] else body


@blp.route("/export")
@blp.arguments(AssetExportArgs, location="query")
@blp.response(200, content_type="text/csv")
def export_file(args: dict[str, Any]) -> Response:
    """Every asset of a type as CSV, with the import's columns."""
    out = io.StringIO()
    with desk().reading(actor()) as uow:
        export_csv(uow, args["type"], out)
    filename = f"assets-{args['type']}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def uploaded_lines() -> list[str]:
    """The lines of the uploaded CSV file (form field ``file`` or a ``text/csv`` body)."""
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else request.get_data()
    if not raw:
        raise ValidationError({"file": ["send a CSV file (form field 'file' or a text/csv body)"]})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": ["the file is not UTF-8 text"]}) from None
    lines = text.splitlines(keepends=True)
    if len(lines) > MAX_UPLOAD_ROWS + 1:
        raise ValidationError({"file": [f"at most {MAX_UPLOAD_ROWS} rows per upload"]})
    return lines
