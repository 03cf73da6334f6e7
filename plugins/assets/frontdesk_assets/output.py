"""How assets, types, history and relations look from outside (API answers, CLI JSON): marshmallow dump schemas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import Schema, fields

from frontdesk_assets.models import Asset, AssetType


class AssetAttributeOutSchema(Schema):
    name = fields.String()
    label = fields.String()
    kind = fields.String()
    required = fields.Boolean()
    unique = fields.Boolean()
    indexed = fields.Boolean()
    choices = fields.List(fields.String())
    position = fields.Integer()


class AssetTypeOutSchema(Schema):
    key = fields.String()
    name = fields.String()
    prefix = fields.String()
    category = fields.String()
    builtin = fields.Boolean()
    attributes = fields.List(fields.Nested(AssetAttributeOutSchema))


class AssetOutSchema(Schema):
    asset_tag = fields.String()
    type = fields.Function(lambda a: a.type.key)
    name = fields.String()
    serial = fields.String(allow_none=True)
    model = fields.String()
    manufacturer = fields.String()
    status = fields.String()
    assigned_to = fields.Function(lambda a: a.assigned_to.email if a.assigned_to else None)
    assigned_at = fields.DateTime(allow_none=True)
    expected_return = fields.Date(allow_none=True)
    location = fields.String()
    organization = fields.Function(lambda a: a.organization.name if a.organization else None)
    vendor = fields.String()
    purchase_date = fields.Date(allow_none=True)
    purchase_cost = fields.Decimal(places=2, as_string=True, allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    seats_total = fields.Integer(allow_none=True)
    notes = fields.String()
    attributes = fields.Dict()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AssetHistoryOutSchema(Schema):
    field = fields.String()
    old = fields.String(allow_none=True)
    new = fields.String(allow_none=True)
    actor = fields.Function(lambda h: h.actor.email if h.actor else None)
    source = fields.String()
    created_at = fields.DateTime()


class AssetRelationOutSchema(Schema):
    id = fields.Integer()
    source = fields.Function(lambda r: r.source.asset_tag)
    kind = fields.String()
    target = fields.Function(lambda r: r.target.asset_tag)


class AssetSeatOutSchema(Schema):
    id = fields.Integer()
    person = fields.Function(lambda s: s.user.email if s.user else None)
    device = fields.Function(lambda s: s.device.asset_tag if s.device else None)
    created_at = fields.DateTime()


_ASSET = AssetOutSchema()
_ASSETS = AssetOutSchema(many=True)
_TYPES = AssetTypeOutSchema(many=True)


def asset_row(asset: Asset) -> dict[str, Any]:
    """An asset as plain data."""
    return _ASSET.dump(asset)


def asset_rows(assets: Iterable[Asset]) -> list[dict[str, Any]]:
    """Assets as plain data, dumped by one shared schema (building a schema costs more than a row)."""
    return _ASSETS.dump(assets)


def type_rows(asset_types: Iterable[AssetType]) -> list[dict[str, Any]]:
    """Asset types with their attributes as plain data."""
    return _TYPES.dump(asset_types)
