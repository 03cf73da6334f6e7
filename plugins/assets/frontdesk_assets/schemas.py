"""Marshmallow schemas: asset fields, types and attributes, and the per-type schema of custom attributes."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from frontdesk_assets.lifecycle import RelationKind, Status

KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
ATTRIBUTE_KINDS = ("text", "number", "date", "choice", "person", "asset")
CATEGORIES = ("hardware", "licence", "service")


def _text(length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=length), **kwargs)


class AssetFieldsSchema(Schema):
    """The fields every asset has, as people type them (a CSV row, a form, a JSON body).

    ``assigned_to`` is an e-mail address and ``organization`` a name; the services resolve them.
    """

    asset_tag = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$"), allow_none=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    serial = fields.String(validate=validate.Length(max=100), allow_none=True)
    model = _text(100)
    manufacturer = _text(100)
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    assigned_to = fields.Email(allow_none=True)
    expected_return = fields.Date(allow_none=True)
    location = _text(200)
    organization = fields.String(validate=validate.Length(max=200), allow_none=True)
    vendor = _text(100)
    purchase_date = fields.Date(allow_none=True)
    purchase_cost = fields.Decimal(places=2, allow_nan=False, validate=validate.Range(min=0), allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    seats_total = fields.Integer(validate=validate.Range(min=0, max=1_000_000), allow_none=True)
    notes = _text(10_000)
    attributes = fields.Dict(keys=fields.String(), load_default=dict)


FIELD_NAMES = tuple(name for name in AssetFieldsSchema().fields if name != "attributes")

# Fields a plain update changes; status, assignment and tag have their own services.
EDITABLE = (
    "name",
    "serial",
    "model",
    "manufacturer",
    "location",
    "organization",
    "vendor",
    "purchase_date",
    "purchase_cost",
    "warranty_end",
    "seats_total",
    "notes",
)


class AssetAttributeSchema(Schema):
    """One attribute of an asset type, as an admin defines it."""

    name = fields.String(required=True, validate=validate.Regexp(KEY, error="Use lower-case letters, digits, _."))
    label = fields.String(validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(ATTRIBUTE_KINDS))
    required = fields.Boolean(load_default=False)
    unique = fields.Boolean(load_default=False)
    indexed = fields.Boolean(load_default=False)
    choices = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    position = fields.Integer(load_default=0)

    @validates_schema
    def choices_for_choice(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "kind" not in data:  # a partial update: the service checks against the stored kind
            return
        if data.get("kind") == "choice" and not data.get("choices"):
            raise ValidationError("A choice attribute needs at least one choice.", "choices")
        if data.get("kind") != "choice" and data.get("choices"):
            raise ValidationError("Only choice attributes have choices.", "choices")


class AssetTypeSchema(Schema):
    """An asset type as an admin defines it."""

    key = fields.String(required=True, validate=validate.Regexp(KEY, error="Use lower-case letters, digits, _."))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    prefix = fields.String(required=True, validate=validate.Regexp(PREFIX, error="Use 1-10 capitals and digits."))
    category = fields.String(load_default="hardware", validate=validate.OneOf(CATEGORIES))
    attributes = fields.List(fields.Nested(AssetAttributeSchema), load_default=list)

    @validates("attributes")
    def distinct_names(self, value: list[dict[str, Any]], **_kwargs: Any) -> None:
        names = [attribute["name"] for attribute in value]
        if len(names) != len(set(names)):
            raise ValidationError("Attribute names must be different.")


class AssetRelationSchema(Schema):
    """A relation as people give it: asset tags at both ends and a kind."""

    source = fields.String(required=True, validate=validate.Length(min=1, max=50))
    target = fields.String(required=True, validate=validate.Length(min=1, max=50))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in RelationKind]))


class AssetCheckoutSchema(Schema):
    """Checking an asset out to a person, for good or as a loan with a return date."""

    person = fields.Email(required=True)
    expected_return = fields.Date(allow_none=True, load_default=None)


class AssetSeatSchema(Schema):
    """A licence seat for a person (e-mail) or a device (asset tag): exactly one of them."""

    person = fields.Email(allow_none=True, load_default=None)
    device = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=50))

    @validates_schema
    def one_holder(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("person") is None) == (data.get("device") is None):
            raise ValidationError("Give a person or a device (one of them).", "person")


def attribute_field(kind: str, choices: list[str], required: bool) -> fields.Field:
    """The marshmallow field that validates one attribute value of ``kind``."""
    options: dict[str, Any] = {"required": required, "allow_none": not required}
    if kind == "number":
        return fields.Float(allow_nan=False, **options)
    if kind == "date":
        return fields.Date(**options)
    if kind == "choice":
        return fields.String(validate=validate.OneOf(choices), **options)
    if kind == "person":
        return fields.Email(**options)
    if kind == "asset":
        return fields.String(validate=validate.Length(min=1, max=50), **options)
    return fields.String(validate=validate.Length(max=200), **options)


def attributes_schema(attributes: list[Any]) -> Schema:
    """A schema for the custom attributes of one asset type (unknown names are refused)."""
    declared = {a.name: attribute_field(a.kind, list(a.choices or []), a.required) for a in attributes}
    return Schema.from_dict(declared, name="AttributesSchema")()


class AssetTypeUpdateSchema(AssetTypeSchema):
    """The fields an edit of an existing type may change (its key and category stay), with the same rules."""

    class Meta:
        fields = ("name", "prefix")


class AssetAttributeUpdateSchema(AssetAttributeSchema):
    """The fields an edit of an existing attribute may change (its name and kind stay), with the same rules."""

    class Meta:
        fields = ("label", "required", "unique", "indexed", "choices", "position")
