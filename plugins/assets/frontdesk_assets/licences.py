"""Licence seats: handing seats to people or devices, never more than the licence has."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.schemas import load
from frontdesk.uow import UnitOfWork
from frontdesk_assets import history
from frontdesk_assets.asset_types import MANAGE, VIEW
from frontdesk_assets.inventory import active_person, get_asset, seats_used
from frontdesk_assets.lifecycle import Status
from frontdesk_assets.lookups import Lookups
from frontdesk_assets.models import Asset, LicenceSeat
from frontdesk_assets.schemas import AssetSeatSchema


def seats_of(uow: UnitOfWork, tag: str) -> list[LicenceSeat]:
    """The seats of a licence with their holders."""
    uow.require(VIEW)
    licence = _licence(uow, tag)
    query = select(LicenceSeat).where(LicenceSeat.licence_id == licence.id).order_by(LicenceSeat.id)
    return list(uow.session.scalars(query))


def assign_seat(uow: UnitOfWork, tag: str, data: dict[str, Any]) -> LicenceSeat:
    """Give one seat of licence ``tag`` to a person or a device; refused when every seat is taken."""
    uow.require(MANAGE)
    values = load(AssetSeatSchema, data)
    licence = _licence(uow, tag)
    if uow.session.get_bind().dialect.name == "postgresql":  # two writers must not both take the last seat
        uow.session.execute(select(Asset.id).where(Asset.id == licence.id).with_for_update())
    if licence.status in (Status.RETIRED, Status.DISPOSED):
        raise Conflict(f"{licence.asset_tag} is {licence.status}; its seats cannot be handed out")
    used = seats_used(uow, licence)
    total = licence.seats_total or 0
    if used >= total:
        raise Conflict(
            f"all {total} seats of {licence.asset_tag} are in use; free a seat or raise the licence's seats first"
        )
    seat = LicenceSeat(licence_id=licence.id)
    if values["person"]:
        person = active_person(uow, values["person"])
        seat.user, seat.user_id = person, person.id
        holder, existing = values["person"].lower(), LicenceSeat.user_id == person.id
    else:
        seat.device_id = Lookups(uow).asset_id(values["device"])
        if seat.device_id is None:
            raise ValidationError({"device": [f"no asset tagged {values['device']!r}"]})
        holder, existing = values["device"], LicenceSeat.device_id == seat.device_id
    if uow.session.scalar(select(LicenceSeat.id).where(LicenceSeat.licence_id == licence.id, existing)):
        raise Conflict(f"{holder} already has a seat of {licence.asset_tag}")
    seat.device = uow.session.get(Asset, seat.device_id) if seat.device_id else None
    uow.session.add(seat)
    history.record(uow, licence, {"seat": (None, holder)})
    uow.session.flush()
    return seat


def release_seat(uow: UnitOfWork, tag: str, seat_id: int) -> None:
    """Take a seat back from its holder."""
    uow.require(MANAGE)
    licence = _licence(uow, tag)
    seat = uow.session.scalar(
        select(LicenceSeat).where(LicenceSeat.id == seat_id, LicenceSeat.licence_id == licence.id)
    )
    if seat is None:
        raise NotFound(f"{licence.asset_tag} has no seat {seat_id}")
    holder = seat.user.email if seat.user is not None else seat.device.asset_tag if seat.device else None
    uow.session.delete(seat)
    history.record(uow, licence, {"seat": (holder, None)})


def _licence(uow: UnitOfWork, tag: str) -> Asset:
    licence = get_asset(uow, tag)
    if licence.type.category != "licence":
        raise ValidationError({"licence": [f"{tag} is not a licence"]})
    return licence
