"""Asset types and their attribute schemas: the built-in ones and those admins define."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import selectinload

from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.schemas import load
from frontdesk.uow import UnitOfWork
from frontdesk_assets.models import Asset, AssetAttribute, AssetAttributeValue, AssetType
from frontdesk_assets.schemas import (
    AssetAttributeSchema,
    AssetAttributeUpdateSchema,
    AssetTypeSchema,
    AssetTypeUpdateSchema,
)

VIEW = "assets.view"
MANAGE = "assets.manage"


def list_types(uow: UnitOfWork) -> list[AssetType]:
    """Every asset type with its attributes, by name."""
    uow.require(VIEW)
    query = select(AssetType).options(selectinload(AssetType.attributes)).order_by(AssetType.name)
    return list(uow.session.scalars(query))


def type_names(uow: UnitOfWork) -> list[Any]:
    """Every asset type's key and name, by name (for filters and pickers: no attributes loaded)."""
    uow.require(VIEW)
    return list(uow.session.execute(select(AssetType.key, AssetType.name).order_by(AssetType.name)))


def read_type(uow: UnitOfWork, key: str) -> AssetType:
    """One asset type with its attributes, for people who may see the inventory."""
    uow.require(VIEW)
    return get_type(uow, key)


def get_type(uow: UnitOfWork, key: str) -> AssetType:
    """The asset type with this key (``laptop``), with its attributes (callers check permissions)."""
    found = uow.session.scalar(
        select(AssetType).where(AssetType.key == key).options(selectinload(AssetType.attributes))
    )
    if found is None:
        raise NotFound(f"no asset type {key!r}")
    return found


def create_type(uow: UnitOfWork, data: dict[str, Any]) -> AssetType:
    """Define a new asset type, optionally with its attributes."""
    uow.require(MANAGE)
    values = load(AssetTypeSchema, data)
    _unique_type(uow, values["key"], values["prefix"])
    asset_type = AssetType(
        key=values["key"],
        name=values["name"],
        prefix=values["prefix"],
        category=values["category"],
        next_number=1,
        attributes=[_new_attribute(attribute) for attribute in values["attributes"]],  # loaded, even when empty
    )
    uow.session.add(asset_type)
    uow.session.flush()
    return asset_type


def update_type(uow: UnitOfWork, key: str, data: dict[str, Any]) -> AssetType:
    """Rename an asset type or change its tag prefix (existing tags stay as they are)."""
    uow.require(MANAGE)
    asset_type = get_type(uow, key)
    values = load(AssetTypeUpdateSchema, data, partial=True)
    if "prefix" in values and values["prefix"] != asset_type.prefix:
        _unique_type(uow, None, values["prefix"])
    for field, value in values.items():
        setattr(asset_type, field, value)
    return asset_type


def delete_type(uow: UnitOfWork, key: str) -> None:
    """Remove an admin-defined asset type that no asset uses."""
    uow.require(MANAGE)
    asset_type = get_type(uow, key)
    if asset_type.builtin:
        raise Conflict(f"{key!r} is a built-in type and cannot be removed")
    if uow.session.scalar(select(exists().where(Asset.type_id == asset_type.id))):
        raise Conflict(f"assets of type {key!r} exist; retire or remove them first")
    uow.session.delete(asset_type)


def add_attribute(uow: UnitOfWork, key: str, data: dict[str, Any]) -> AssetAttribute:
    """Add an attribute to a type; an indexed or unique one is indexed for the assets that exist."""
    uow.require(MANAGE)
    asset_type = get_type(uow, key)
    values = load(AssetAttributeSchema, data)
    if any(a.name == values["name"] for a in asset_type.attributes):
        raise ValidationError({"name": [f"{key!r} already has an attribute {values['name']!r}"]})
    attribute = _new_attribute(values)
    asset_type.attributes.append(attribute)
    uow.session.flush()
    if attribute.searchable:
        _reindex(uow, asset_type, attribute)
    return attribute


def update_attribute(uow: UnitOfWork, key: str, name: str, data: dict[str, Any]) -> AssetAttribute:
    """Change an attribute's label, flags or choices (its name and kind stay)."""
    uow.require(MANAGE)
    asset_type = get_type(uow, key)
    attribute = _attribute(asset_type, name)
    values = load(AssetAttributeUpdateSchema, data, partial=True)
    if "choices" in values and (attribute.kind == "choice") != bool(values["choices"]):
        raise ValidationError({"choices": ["Only choice attributes have choices, and they need at least one."]})
    was_searchable = attribute.searchable
    for field, value in values.items():
        setattr(attribute, field, value)
    uow.session.flush()
    if attribute.searchable and (not was_searchable or values.get("unique")):
        _reindex(uow, asset_type, attribute)
    elif was_searchable and not attribute.searchable:
        uow.session.execute(delete(AssetAttributeValue).where(AssetAttributeValue.attribute_id == attribute.id))
    return attribute


def remove_attribute(uow: UnitOfWork, key: str, name: str) -> None:
    """Remove an attribute from a type and its values from every asset of the type."""
    uow.require(MANAGE)
    asset_type = get_type(uow, key)
    attribute = _attribute(asset_type, name)
    for asset in uow.session.scalars(select(Asset).where(Asset.type_id == asset_type.id)):
        if name in (asset.attributes or {}):
            asset.attributes = {k: v for k, v in asset.attributes.items() if k != name}
    asset_type.attributes.remove(attribute)


def index_values(attribute: AssetAttribute, value: Any) -> tuple[str | None, float | None]:
    """The text and number forms of a value in the indexed value table."""
    if value is None:
        return None, None
    if attribute.kind == "number":
        return None, float(value)
    return str(value).lower() if attribute.kind == "person" else str(value), None


def _reindex(uow: UnitOfWork, asset_type: AssetType, attribute: AssetAttribute) -> None:
    """Write the indexed rows of ``attribute`` for every asset of the type, checking uniqueness."""
    uow.session.execute(delete(AssetAttributeValue).where(AssetAttributeValue.attribute_id == attribute.id))
    rows, seen = [], set()
    for asset_id, attributes in uow.session.execute(
        select(Asset.id, Asset.attributes).where(Asset.type_id == asset_type.id)
    ):
        value = (attributes or {}).get(attribute.name)
        if value is None:
            continue
        text, number = index_values(attribute, value)
        if attribute.unique and (text, number) in seen:
            raise ValidationError({"unique": [f"assets share the value {value!r} of {attribute.name!r}"]})
        seen.add((text, number))
        rows.append({"asset_id": asset_id, "attribute_id": attribute.id, "value_text": text, "value_number": number})
    if rows:
        uow.session.execute(AssetAttributeValue.__table__.insert(), rows)


def _new_attribute(values: dict[str, Any]) -> AssetAttribute:
    return AssetAttribute(
        name=values["name"],
        label=values.get("label") or values["name"].replace("_", " ").capitalize(),
        kind=values["kind"],
        required=values["required"],
        unique=values["unique"],
        indexed=values["indexed"],
        choices=values["choices"],
        position=values["position"],
    )


def _attribute(asset_type: AssetType, name: str) -> AssetAttribute:
    found = next((a for a in asset_type.attributes if a.name == name), None)
    if found is None:
        raise NotFound(f"type {asset_type.key!r} has no attribute {name!r}")
    return found


def _unique_type(uow: UnitOfWork, key: str | None, prefix: str) -> None:
    if key is not None and uow.session.scalar(select(AssetType.id).where(AssetType.key == key)) is not None:
        raise ValidationError({"key": [f"an asset type {key!r} already exists"]})
    if uow.session.scalar(select(AssetType.id).where(AssetType.prefix == prefix)) is not None:
        raise ValidationError({"prefix": [f"the prefix {prefix!r} is taken"]})
