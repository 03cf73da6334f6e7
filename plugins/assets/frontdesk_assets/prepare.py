"""Validating asset input against the fields and the type's attribute schema, for one asset or a batch.

:func:`prepare` turns loaded input into column values and attributes, and names every bad field;
the uniqueness rules that need the database (tags, serials per model, unique attributes) are
checked by :class:`UniqueIndex` for one asset or a whole import at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import marshmallow
from marshmallow import Schema, missing
from sqlalchemy import and_, or_, select, tuple_

from frontdesk.uow import UnitOfWork
from frontdesk_assets.asset_types import index_values
from frontdesk_assets.lifecycle import INITIAL, UNASSIGNED, Status, can_move
from frontdesk_assets.lookups import Lookups, chunks
from frontdesk_assets.models import Asset, AssetAttribute, AssetAttributeValue, AssetType
from frontdesk_assets.schemas import AssetFieldsSchema, attributes_schema

Errors = dict[str, list[str]]


@dataclass
class Prepared:
    """Input made ready to write: column values, attributes as JSON, and the indexed attribute values."""

    columns: dict[str, Any]
    attributes: dict[str, Any] | None
    indexed: dict[int, tuple[str | None, float | None]] = field(default_factory=dict)


class TypeRules:
    """One asset type's schemas, built once and applied to any number of inputs."""

    def __init__(self, asset_type: AssetType) -> None:
        self.type = asset_type
        self.attributes: dict[str, AssetAttribute] = {a.name: a for a in asset_type.attributes}
        self.fields = RowLoader(AssetFieldsSchema(), required=("name",))
        required = tuple(a.name for a in asset_type.attributes if a.required)
        self.attribute_loader = RowLoader(attributes_schema(asset_type.attributes), required=required)

    def load(self, data: dict[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], Errors]:
        """Validate the asset fields of ``data``; returns the loaded values and messages per field."""
        return self.fields.load(data, partial=partial)

    def prepare(
        self, values: dict[str, Any], lookups: Lookups, *, current: Asset | None = None, transitions: bool = False
    ) -> tuple[Prepared | None, Errors]:
        """Check loaded ``values`` (all fields on create, the changed ones on update) and resolve names to ids.

        On update a new ``status`` is refused unless ``transitions`` allows lifecycle moves (imports do).
        """
        errors: Errors = {}
        columns: dict[str, Any] = {}
        category = self.type.category
        for name, value in values.items():
            if name == "attributes":
                continue
            if name == "assigned_to":
                columns["assigned_to_id"] = self._person(value, lookups, "assigned_to", errors)
            elif name == "organization":
                columns["organization_id"] = self._organization(value, lookups, errors)
            elif name in ("model", "manufacturer", "location", "vendor", "notes"):
                columns[name] = (value or "").strip()
            elif name in ("serial", "asset_tag"):
                columns[name] = (value or "").strip() or None
            else:
                columns[name] = value
        if current is None:
            status = columns.setdefault("status", Status.DEPLOYED if category == "service" else Status.IN_STOCK)
            if columns.get("assigned_to_id") and "status" not in values:
                status = columns["status"] = Status.DEPLOYED
            if Status(status) not in INITIAL:
                errors.setdefault("status", []).append(
                    f"a new asset starts as {', '.join(sorted(s.value for s in INITIAL))}"
                )
        elif "status" in columns and columns["status"] != current.status:
            if not transitions:
                errors.setdefault("status", []).append("change the status through a lifecycle transition")
            elif not can_move(current.status, columns["status"]):
                errors.setdefault("status", []).append(f"{current.status} cannot become {columns['status']}")
            elif Status(columns["status"]) in UNASSIGNED and "assigned_to_id" not in columns:
                columns.update(assigned_to_id=None, expected_return=None)
        self._check_assignment(columns, current, errors)
        if category == "licence":
            if current is None and columns.get("seats_total") is None:
                errors.setdefault("seats_total", []).append("a licence needs its number of seats")
        elif columns.get("seats_total") is not None:
            errors.setdefault("seats_total", []).append("only licences have seats")
        attributes = None
        indexed: dict[int, tuple[str | None, float | None]] = {}
        if "attributes" in values or current is None:
            merged = {**((current.attributes or {}) if current is not None else {}), **values.get("attributes", {})}
            attributes = self._attributes(merged, lookups, errors)
            if attributes is not None:
                for name, attribute in self.attributes.items():
                    if attribute.searchable:
                        indexed[attribute.id] = index_values(attribute, attributes.get(name))
        if errors:
            return None, errors
        return Prepared(columns, attributes, indexed), {}

    def validate(
        self, data: dict[str, Any], lookups: Lookups, *, current: Asset | None = None, transitions: bool = False
    ) -> tuple[Prepared | None, Errors]:
        """Load and prepare raw input (a new asset without ``current``); every bad field is named at once."""
        values, errors = self.load(data, partial=current is not None)
        if errors:  # report the attributes' problems along with the fields'
            merged = {**((current.attributes or {}) if current else {}), **(data.get("attributes") or {})}
            self._attributes(merged, lookups, errors)
            return None, errors
        return self.prepare(values, lookups, current=current, transitions=transitions)

    def _check_assignment(self, columns: dict[str, Any], current: Asset | None, errors: Errors) -> None:
        if not columns.get("assigned_to_id"):
            if columns.get("expected_return"):
                errors.setdefault("expected_return", []).append("only an asset lent to someone has a return date")
            return
        if self.type.category != "hardware":
            errors.setdefault("assigned_to", []).append(
                f"a {self.type.category} is not assigned to a person"
                + (" (give it seats instead)" if self.type.category == "licence" else "")
            )
        status = columns.get("status") or (current.status if current is not None else None)
        if status is not None and Status(status) in UNASSIGNED:
            errors.setdefault("assigned_to", []).append(f"an asset that is {status} is assigned to nobody")

    def _attributes(self, given: dict[str, Any], lookups: Lookups, errors: Errors) -> dict[str, Any] | None:
        cleaned = {k: (None if v == "" else v) for k, v in given.items()}
        loaded, problems = self.attribute_loader.load(cleaned)
        if problems:
            errors.update({f"attributes.{name}": messages for name, messages in problems.items()})
            return None
        result: dict[str, Any] = {}
        for name, value in loaded.items():
            if value is None:
                continue
            kind = self.attributes[name].kind
            if kind == "person":
                value = value.lower()
                if self._person(value, lookups, f"attributes.{name}", errors) is None:
                    continue
            elif kind == "asset" and lookups.asset_id(value) is None:
                errors.setdefault(f"attributes.{name}", []).append(f"no asset tagged {value!r}")
                continue
            result[name] = value.isoformat() if isinstance(value, date) else value
        return result

    @staticmethod
    def _person(email: str | None, lookups: Lookups, name: str, errors: Errors) -> int | None:
        if not email:
            return None
        user_id = lookups.user_id(email)
        if user_id is None:
            errors.setdefault(name, []).append(f"no user with the e-mail address {email!r}")
        return user_id

    @staticmethod
    def _organization(name: str | None, lookups: Lookups, errors: Errors) -> int | None:
        if not name:
            return None
        organization_id = lookups.organization_id(name)
        if organization_id is None:
            errors.setdefault("organization", []).append(f"no organization named {name!r}")
        return organization_id


class UniqueIndex:
    """The uniqueness rules (tag, serial per model, unique attributes) over the database plus pending rows.

    ``load`` reads the existing values the candidates could clash with, in chunked queries; ``claim``
    then checks one asset and reserves its values, so duplicates inside one import are caught too.
    """

    def __init__(self, uow: UnitOfWork, rules: TypeRules) -> None:
        self.uow = uow
        self.unique_attributes = [a for a in rules.attributes.values() if a.unique]
        self.tags: dict[str, int | None] = {}
        self.serials: dict[tuple[str, str], int | None] = {}
        self.values: dict[tuple[int, str | None, float | None], int | None] = {}

    def load(self, candidates: list[tuple[Prepared, Asset | None]]) -> None:
        """Read the taken tags, serials and unique values the candidates (new values, current asset) name."""
        session = self.uow.session
        tags = {p.columns["asset_tag"] for p, _current in candidates if p.columns.get("asset_tag")}
        for batch in chunks(tags):
            query = select(Asset.asset_tag, Asset.id).where(Asset.asset_tag.in_(batch))
            self.tags.update(dict(session.execute(query).all()))
        serials = {key for p, current in candidates if (key := _serial_key(p, current))[1]}
        for batch in chunks(serials, 2_000):
            query = select(Asset.model, Asset.serial, Asset.id).where(tuple_(Asset.model, Asset.serial).in_(batch))
            self.serials.update({(m, s): i for m, s, i in session.execute(query)})
        for attribute in self.unique_attributes:
            texts = {p.indexed[attribute.id][0] for p, _current in candidates if attribute.id in p.indexed} - {None}
            numbers = {p.indexed[attribute.id][1] for p, _current in candidates if attribute.id in p.indexed} - {None}
            for column, wanted in (
                (AssetAttributeValue.value_text, texts),
                (AssetAttributeValue.value_number, numbers),
            ):
                for batch in chunks(wanted):
                    query = select(
                        AssetAttributeValue.value_text, AssetAttributeValue.value_number, AssetAttributeValue.asset_id
                    ).where(and_(AssetAttributeValue.attribute_id == attribute.id, or_(column.in_(batch))))
                    self.values.update({(attribute.id, t, n): i for t, n, i in session.execute(query)})

    def claim(self, prepared: Prepared, current: Asset | None) -> Errors:
        """Check one asset (``current`` None for a new one) against taken values, then reserve its values."""
        errors: Errors = {}
        asset_id = current.id if current is not None else None
        tag = prepared.columns.get("asset_tag")
        if tag and self.tags.get(tag, asset_id) != asset_id:
            errors["asset_tag"] = [f"the tag {tag!r} is taken"]
        model, serial = _serial_key(prepared, current)
        if serial and self.serials.get((model, serial), asset_id) != asset_id:
            errors["serial"] = [f"another {model or 'asset'} has the serial {serial!r}"]
        for attribute in self.unique_attributes:
            text, number = prepared.indexed.get(attribute.id, (None, None))
            if (text, number) != (None, None) and self.values.get((attribute.id, text, number), asset_id) != asset_id:
                errors[f"attributes.{attribute.name}"] = ["another asset has this value"]
        if not errors:
            marker = asset_id if asset_id is not None else -1
            if tag:
                self.tags[tag] = marker
            if serial:
                self.serials[(model, serial)] = marker
            for attribute in self.unique_attributes:
                text, number = prepared.indexed.get(attribute.id, (None, None))
                if (text, number) != (None, None):
                    self.values[(attribute.id, text, number)] = marker
        return errors


def _serial_key(prepared: Prepared, current: Asset | None) -> tuple[str, str | None]:
    """The (model, serial) an asset will have once ``prepared`` is applied."""
    model = prepared.columns.get("model", current.model if current is not None else "") or ""
    serial = prepared.columns.get("serial", current.serial if current is not None else None)
    return model, serial


class RowLoader:
    """Loads flat input (a form, a CSV row, a JSON object of plain values) with the fields of a schema.

    The schemas here have no schema-level hooks or validators, so each field is loaded on its own
    with ``Field.deserialize`` (marshmallow's own conversion and validators), and the result for a
    value already seen in the same column is reused: an import repeats models, statuses, dates and
    people row after row, and a whole ``Schema.load`` per row would cost more than the rest of the
    import. Messages are marshmallow's.
    """

    MEMO_LIMIT = 200_000

    def __init__(self, schema: Schema, *, required: tuple[str, ...]) -> None:
        self.fields = schema.fields
        self.required = required
        self.memo: dict[tuple[str, Any], tuple[Any, list[str] | None]] = {}

    def load(self, data: dict[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], Errors]:
        """The loaded values of ``data`` and the messages per bad field (missing required ones too)."""
        values: dict[str, Any] = {}
        errors: Errors = {}
        for key, raw in data.items():
            field = self.fields.get(key)
            if field is None:
                errors[key] = ["Unknown field."]
                continue
            if isinstance(raw, str) and "\x00" in raw:
                errors[key] = ["Must not contain NUL characters."]
                continue
            value, messages = self._field(key, field, raw)
            if messages:
                errors[key] = messages
            else:
                values[key] = value
        if not partial:
            for key in self.required:
                if key not in data:
                    errors[key] = [str(self.fields[key].error_messages["required"])]
        for key, field in self.fields.items():
            if key not in data and key not in errors and not partial and field.load_default is not missing:
                values[key] = field.load_default() if callable(field.load_default) else field.load_default
        return values, errors

    def _field(self, key: str, field: marshmallow.fields.Field, raw: Any) -> tuple[Any, list[str] | None]:
        hashable = raw is None or isinstance(raw, str | int | float | bool)
        if hashable and (key, raw) in self.memo:
            return self.memo[(key, raw)]
        try:
            result: tuple[Any, list[str] | None] = (field.deserialize(raw, key, {}), None)
        except marshmallow.ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, list) else [exc.messages]
            result = (None, [str(m) for m in messages])
        if hashable and len(self.memo) < self.MEMO_LIMIT:
            self.memo[(key, raw)] = result
        return result
