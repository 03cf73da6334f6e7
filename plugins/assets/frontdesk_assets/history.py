"""The history of an asset: one row per changed field, with who, when and from which entry point."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from frontdesk.db import utcnow
from frontdesk.uow import UnitOfWork
from frontdesk_assets.models import Asset, AssetHistory


def as_text(value: Any) -> str | None:
    """A value as the history stores it: None stays None, dates in ISO form, the rest as text."""
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def row(uow: UnitOfWork, asset_id: int, field: str, old: Any, new: Any, at: datetime | None = None) -> dict[str, Any]:
    """One history row as a dict, for bulk inserts."""
    return {
        "asset_id": asset_id,
        "actor_id": uow.actor_id,
        "source": uow.source,
        "field": field,
        "old": as_text(old),
        "new": as_text(new),
        "created_at": at or utcnow(),
    }


def record(uow: UnitOfWork, asset: Asset, changes: dict[str, tuple[Any, Any]]) -> None:
    """Add a history row for every ``{field: (old, new)}`` that really changed, and touch the asset if any did."""
    now = utcnow()
    changed = [(field, old, new) for field, (old, new) in changes.items() if as_text(old) != as_text(new)]
    for field, old, new in changed:
        uow.session.add(AssetHistory(**row(uow, asset.id, field, old, new, now)))
    if changed:
        asset.updated_at = now


def history_of(uow: UnitOfWork, asset: Asset, limit: int = 200) -> list[AssetHistory]:
    """The latest changes of an asset, newest first, with their actors."""
    query = select(AssetHistory).where(AssetHistory.asset_id == asset.id).order_by(AssetHistory.id.desc()).limit(limit)
    return list(uow.session.scalars(query))
