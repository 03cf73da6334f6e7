"""Assets: create, change, move through the lifecycle, check out and in, and find them.

Agents read (``assets.view``), ``assets.manage`` changes; requesters see only the assets assigned to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select

from frontdesk.db import utcnow
from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import Organization, User
from frontdesk.schemas import load
from frontdesk.services.tickets import user_by_email
from frontdesk.uow import UnitOfWork
from frontdesk_assets import history
from frontdesk_assets.alerts import warning_condition
from frontdesk_assets.asset_types import MANAGE, VIEW, get_type
from frontdesk_assets.lifecycle import STATUS_LABELS, UNASSIGNED, Status, can_move
from frontdesk_assets.lookups import Lookups, chunks
from frontdesk_assets.models import Asset, AssetAttributeValue, AssetType, LicenceSeat
from frontdesk_assets.prepare import Prepared, TypeRules, UniqueIndex
from frontdesk_assets.schemas import AssetCheckoutSchema

TAG_DIGITS = 6


def next_tags(uow: UnitOfWork, asset_type: AssetType, count: int) -> list[str]:
    """Reserve ``count`` consecutive tags of the type (``LAP-000042``), skipping tags taken by hand."""
    if uow.session.get_bind().dialect.name == "postgresql":  # serialize numbering across writers
        uow.session.execute(select(AssetType.id).where(AssetType.id == asset_type.id).with_for_update())
        uow.session.refresh(asset_type, ["next_number"])
    tags: list[str] = []
    number = asset_type.next_number
    while len(tags) < count:
        batch = [f"{asset_type.prefix}-{n:0{TAG_DIGITS}d}" for n in range(number, number + count - len(tags))]
        number += len(batch)
        taken = {
            tag
            for part in chunks(batch)
            for tag in uow.session.scalars(select(Asset.asset_tag).where(Asset.asset_tag.in_(part)))
        }
        tags.extend(tag for tag in batch if tag not in taken)
    asset_type.next_number = number
    return tags


def create_asset(uow: UnitOfWork, type_key: str, data: dict[str, Any]) -> Asset:
    """Record a new asset of type ``type_key``; its tag is numbered from the type's prefix unless given."""
    uow.require(MANAGE)
    rules = TypeRules(get_type(uow, type_key))
    prepared, errors = rules.validate(data, Lookups(uow))
    if prepared is None:
        raise ValidationError(errors)
    unique = UniqueIndex(uow, rules)
    unique.load([(prepared, None)])
    errors = unique.claim(prepared, None)
    if errors:
        raise ValidationError(errors)
    columns = prepared.columns
    if not columns.get("asset_tag"):
        columns["asset_tag"] = next_tags(uow, rules.type, 1)[0]
    now = utcnow()
    asset = Asset(
        type_id=rules.type.id,
        attributes=prepared.attributes or {},
        created_at=now,
        updated_at=now,
        assigned_at=now if columns.get("assigned_to_id") else None,
        **columns,
    )
    uow.session.add(asset)
    uow.session.flush()
    uow.session.refresh(asset)  # load its type, holder and organization with it
    _write_index(uow, asset.id, prepared, new=True)
    history.record(uow, asset, {"created": (None, asset.asset_tag)})
    return asset


def update_asset(uow: UnitOfWork, tag: str, data: dict[str, Any]) -> Asset:
    """Change an asset's fields and attributes (status and assignment go through their own actions)."""
    uow.require(MANAGE)
    asset = get_asset(uow, tag)
    for name in ("asset_tag", "assigned_to", "expected_return"):
        if name in data:
            raise ValidationError({name: ["this is not changed by an edit (check-out, check-in and transfer do it)"]})
    rules = TypeRules(asset.type)
    prepared, errors = rules.validate(data, Lookups(uow), current=asset)
    if prepared is None:
        raise ValidationError(errors)
    unique = UniqueIndex(uow, rules)
    unique.load([(prepared, asset)])
    errors = unique.claim(prepared, asset)
    total = prepared.columns.get("seats_total")
    if total is not None and total < (used := seats_used(uow, asset)):
        errors["seats_total"] = [f"{used} seats are in use; free some first"]
    if errors:
        raise ValidationError(errors)
    apply_changes(uow, asset, prepared)
    return asset


def apply_changes(uow: UnitOfWork, asset: Asset, prepared: Prepared) -> bool:
    """Write prepared changes to an existing asset, with a history row per changed field; False if nothing changed."""
    changes: dict[str, tuple[Any, Any]] = {}
    for column, value in prepared.columns.items():
        old = getattr(asset, column)
        if history.as_text(old) == history.as_text(value):
            continue
        if column == "organization_id":
            organization = uow.session.get(Organization, value) if value is not None else None
            changes["organization"] = (
                asset.organization.name if asset.organization else None,
                organization and organization.name,
            )
            asset.organization = organization
        elif column == "assigned_to_id":
            holder = uow.session.get(User, value) if value is not None else None
            changes["assigned_to"] = (asset.assigned_to.email if asset.assigned_to else None, holder and holder.email)
            asset.assigned_to = holder
            asset.assigned_at = utcnow() if holder else None
            asset.loan_warned_for = None
        else:
            changes[column] = (old, value)
        setattr(asset, column, value)
    if prepared.attributes is not None and prepared.attributes != (asset.attributes or {}):
        for name in sorted(set(prepared.attributes) | set(asset.attributes or {})):
            old, new = (asset.attributes or {}).get(name), prepared.attributes.get(name)
            if old != new:
                changes[f"attributes.{name}"] = (old, new)
        asset.attributes = prepared.attributes
        _write_index(uow, asset.id, prepared, new=False)
    history.record(uow, asset, changes)
    return bool(changes)


def change_status(uow: UnitOfWork, tag: str, status: str) -> Asset:
    """Move an asset to another lifecycle status; leaving use (in stock, retired...) ends its assignment."""
    uow.require(MANAGE)
    asset = get_asset(uow, tag)
    if status not in Status.__members__.values():
        raise ValidationError({"status": [f"unknown status {status!r}"]})
    if not can_move(asset.status, status):
        raise Conflict(
            f"{asset.asset_tag} cannot go from {STATUS_LABELS[asset.status].lower()} to {STATUS_LABELS[status].lower()}"
        )
    changes: dict[str, tuple[Any, Any]] = {"status": (asset.status, status)}
    if Status(status) in UNASSIGNED and asset.assigned_to_id is not None:
        changes.update(_unassign(asset))
    asset.status = status
    history.record(uow, asset, changes)
    return asset


def check_out(uow: UnitOfWork, tag: str, data: dict[str, Any]) -> Asset:
    """Hand an asset in stock to a person (``person``), as a loan when ``expected_return`` is given."""
    uow.require(MANAGE)
    values = load(AssetCheckoutSchema, data)
    return _check_out(uow, get_asset(uow, tag), values)


def hand_over(uow: UnitOfWork, tag: str, data: dict[str, Any]) -> Asset:
    """Give an asset to a person: check it out when nobody has it, else transfer it from its holder.

    The asset is loaded once and the branch taken on its current holder, so the check-out dialog
    and the command line share one rule.
    """
    uow.require(MANAGE)
    values = load(AssetCheckoutSchema, data)
    asset = get_asset(uow, tag)
    if asset.assigned_to_id is None:
        return _check_out(uow, asset, values)
    return _transfer(uow, asset, values)


def check_in(uow: UnitOfWork, tag: str) -> Asset:
    """Take an asset back from its holder into stock."""
    uow.require(MANAGE)
    asset = get_asset(uow, tag)
    if asset.assigned_to_id is None:
        raise Conflict(f"{asset.asset_tag} is not checked out")
    changes = {"status": (asset.status, Status.IN_STOCK.value), **_unassign(asset)}
    asset.status = Status.IN_STOCK
    history.record(uow, asset, changes)
    return asset


def transfer(uow: UnitOfWork, tag: str, data: dict[str, Any]) -> Asset:
    """Give a checked-out asset to another person directly, with a new return date (or none)."""
    uow.require(MANAGE)
    values = load(AssetCheckoutSchema, data)
    return _transfer(uow, get_asset(uow, tag), values)


def seats_used(uow: UnitOfWork, licence: Asset) -> int:
    """How many seats of a licence are handed out."""
    return uow.session.scalar(select(func.count()).where(LicenceSeat.licence_id == licence.id)) or 0


def get_asset(uow: UnitOfWork, tag: str) -> Asset:
    """The asset with this tag, if the actor may see it (agents: all; requesters: their own)."""
    asset = uow.session.scalar(select(Asset).where(Asset.asset_tag == tag, visible_assets(uow)))
    if asset is None:
        raise NotFound(f"no asset tagged {tag!r}")
    return asset


def visible_assets(uow: UnitOfWork) -> Any:
    """The condition on assets the actor may see: all with ``assets.view``, else those assigned to them."""
    if uow.can(VIEW):
        return Asset.id.is_not(None)
    if uow.actor_id is None:
        return Asset.id.is_(None)
    return Asset.assigned_to_id == uow.actor_id


@dataclass
class AssetFilter:
    """What the asset list shows: a type, a status, a holder, a text search, an attribute value."""

    type: str | None = None
    status: str | None = None
    assigned_to: int | None = None
    q: str | None = None
    attribute: str | None = None
    value: str | None = None
    warning: str | None = None  # "overdue" loans or "warranty" ending soon


@dataclass
class AssetPage:
    """One page of assets and the cursor of the next one (None on the last page)."""

    items: list[Asset]
    next_cursor: int | None


def list_assets(uow: UnitOfWork, filters: AssetFilter, *, cursor: int | None = None, limit: int = 50) -> AssetPage:
    """Assets the actor may see, newest first, ``limit`` at a time (keyset pagination on the id)."""
    query = filtered(uow, filters)
    if cursor is not None:
        query = query.where(Asset.id < cursor)
    query = query.order_by(Asset.id.desc()).limit(limit + 1)
    items = list(uow.session.scalars(query))
    more = len(items) > limit
    return AssetPage(items[:limit], items[limit - 1].id if more else None)


def count_assets(uow: UnitOfWork, filters: list[AssetFilter], *, up_to: int) -> list[int]:
    """How many assets match each filter, counting no further than ``up_to`` (the index walk stops
    there); one query for all of them."""
    counts = [
        select(func.count())
        .select_from(filtered(uow, f).with_only_columns(Asset.id).limit(up_to).subquery())
        .scalar_subquery()
        for f in filters
    ]
    return list(uow.session.execute(select(*counts)).one())


def filtered(uow: UnitOfWork, filters: AssetFilter) -> Select[tuple[Asset]]:
    """The query of assets matching ``filters`` that the actor may see."""
    query = select(Asset).where(visible_assets(uow))
    if filters.type:
        asset_type = get_type(uow, filters.type)
        query = query.where(Asset.type_id == asset_type.id)
        if filters.attribute:
            attribute = next((a for a in asset_type.attributes if a.name == filters.attribute), None)
            if attribute is None or not attribute.searchable:
                raise ValidationError({"attribute": [f"{filters.attribute!r} is not an indexed attribute of the type"]})
            value = filters.value or ""
            column = AssetAttributeValue.value_number if attribute.kind == "number" else AssetAttributeValue.value_text
            try:
                wanted: Any = float(value) if attribute.kind == "number" else value
            except ValueError:
                raise ValidationError({"value": ["not a number"]}) from None
            matching = select(AssetAttributeValue.asset_id).where(
                AssetAttributeValue.attribute_id == attribute.id, column == wanted
            )
            query = query.where(Asset.id.in_(matching))
    if filters.status:
        query = query.where(Asset.status == filters.status)
    if filters.warning:
        query = query.where(warning_condition(uow, filters.warning))
    if filters.assigned_to is not None:
        query = query.where(Asset.assigned_to_id == filters.assigned_to)
    if filters.q:
        text = filters.q.strip()
        exact = select(Asset.id).where(or_(Asset.asset_tag == text, Asset.serial == text))
        if uow.session.scalar(exact.limit(1)) is not None:  # a tag or serial: found through their indexes
            return query.where(Asset.id.in_(exact))
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Asset.name.ilike(pattern, escape="\\"), Asset.model.ilike(pattern, escape="\\")))
    return query


def assets_of(uow: UnitOfWork, user_id: int) -> list[Asset]:
    """The assets assigned to one person (the actor's own, or anyone's with ``assets.view``)."""
    if user_id != uow.actor_id:
        uow.require(VIEW)
    query = select(Asset).where(Asset.assigned_to_id == user_id).order_by(Asset.id.desc()).limit(200)
    return list(uow.session.scalars(query))


def _write_index(uow: UnitOfWork, asset_id: int, prepared: Prepared, *, new: bool) -> None:
    if not prepared.indexed:
        return
    if not new:
        uow.session.execute(AssetAttributeValue.__table__.delete().where(AssetAttributeValue.asset_id == asset_id))
    rows = [
        {"asset_id": asset_id, "attribute_id": attribute_id, "value_text": text, "value_number": number}
        for attribute_id, (text, number) in prepared.indexed.items()
        if (text, number) != (None, None)
    ]
    if rows:
        uow.session.execute(AssetAttributeValue.__table__.insert(), rows)


def _can_be_held(asset: Asset) -> None:
    if asset.type.category != "hardware":
        raise Conflict(f"{asset.asset_tag} is a {asset.type.category}; it is not checked out to people")


def _check_out(uow: UnitOfWork, asset: Asset, values: dict[str, Any]) -> Asset:
    _can_be_held(asset)
    if asset.assigned_to_id is not None:
        raise Conflict(f"{asset.asset_tag} is checked out to {asset.assigned_to.email}; transfer it instead")
    if not can_move(asset.status, Status.DEPLOYED):
        raise Conflict(f"{asset.asset_tag} is {STATUS_LABELS[asset.status].lower()}; it cannot be checked out")
    person = active_person(uow, values["person"])
    changes = {"status": (asset.status, Status.DEPLOYED.value), **_assign(asset, person, values["expected_return"])}
    asset.status = Status.DEPLOYED
    history.record(uow, asset, changes)
    return asset


def _transfer(uow: UnitOfWork, asset: Asset, values: dict[str, Any]) -> Asset:
    if asset.assigned_to_id is None:
        raise Conflict(f"{asset.asset_tag} is not checked out; check it out instead")
    person = active_person(uow, values["person"])
    if person.id == asset.assigned_to_id:
        raise Conflict(f"{asset.asset_tag} is already with {person.email}")
    history.record(uow, asset, _assign(asset, person, values["expected_return"]))
    return asset


def active_person(uow: UnitOfWork, email: str) -> User:
    """The active user with this e-mail address: only they may be handed an asset or a seat."""
    user = user_by_email(uow, email.strip().lower())
    if user is None:
        raise ValidationError({"person": [f"no user with the e-mail address {email!r}"]})
    if not user.active:
        raise ValidationError({"person": [f"{email} is deactivated"]})
    return user


def _assign(asset: Asset, person: User, expected_return: date | None) -> dict[str, tuple[Any, Any]]:
    if expected_return is not None and expected_return < utcnow().date():
        raise ValidationError({"expected_return": ["the return date is in the past"]})
    changes = {
        "assigned_to": (asset.assigned_to.email if asset.assigned_to else None, person.email),
        "expected_return": (asset.expected_return, expected_return),
    }
    asset.assigned_to = person
    asset.assigned_to_id = person.id
    asset.assigned_at = utcnow()
    asset.expected_return = expected_return
    asset.loan_warned_for = None
    return changes


def _unassign(asset: Asset) -> dict[str, tuple[Any, Any]]:
    changes = {
        "assigned_to": (asset.assigned_to.email if asset.assigned_to else None, None),
        "expected_return": (asset.expected_return, None),
    }
    asset.assigned_to = None
    asset.assigned_to_id = None
    asset.assigned_at = None
    asset.expected_return = None
    asset.loan_warned_for = None
    return changes
