"""Warnings: loans past their return date and warranties about to end, shown in lists and emitted as events once.

The periodic job emits ``assets.loan_overdue`` and ``assets.warranty_expiring`` for each asset at most
once per return date / warranty end (remembered on the asset), so automation can react.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from frontdesk.db import utcnow
from frontdesk.errors import ValidationError
from frontdesk.permissions import SYSTEM
from frontdesk.services.plugins import get_settings
from frontdesk.uow import UnitOfWork
from frontdesk_assets.lifecycle import Status
from frontdesk_assets.models import Asset

OVERDUE = "overdue"
WARRANTY = "warranty"
KINDS = (OVERDUE, WARRANTY)
SCAN_LIMIT = 5_000  # assets warned per run; the next run picks up the rest


def warranty_days(uow: UnitOfWork) -> int:
    """How many days ahead a warranty end counts as "expiring" (the plugin setting ``warranty_days``)."""
    return int(get_settings(uow, "assets")["warranty_days"])


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Assets lent to someone whose return date has passed."""
    return and_(Asset.assigned_to_id.is_not(None), Asset.expected_return < today)


def expiring_condition(today: date, days: int) -> ColumnElement[bool]:
    """Assets in use whose warranty ends within ``days`` days (not yet ended)."""
    return and_(
        Asset.warranty_end >= today,
        Asset.warranty_end <= today + timedelta(days=days),
        Asset.status.not_in([Status.RETIRED, Status.DISPOSED]),
    )


def warning_condition(uow: UnitOfWork, kind: str) -> ColumnElement[bool]:
    """The list filter for one kind of warning (``overdue`` or ``warranty``)."""
    if kind not in KINDS:
        raise ValidationError({"warning": [f"one of {', '.join(KINDS)}"]})
    today = utcnow().date()
    return overdue_condition(today) if kind == OVERDUE else expiring_condition(today, warranty_days(uow))


def warnings_for(asset: Asset, today: date, days: int) -> list[str]:
    """The warnings one asset shows, as sentences."""
    found = []
    if asset.assigned_to_id is not None and asset.expected_return is not None and asset.expected_return < today:
        found.append(f"Loan overdue since {asset.expected_return.isoformat()}")
    if (
        asset.warranty_end is not None
        and today <= asset.warranty_end <= today + timedelta(days=days)
        and asset.status not in (Status.RETIRED, Status.DISPOSED)
    ):
        found.append(f"Warranty ends {asset.warranty_end.isoformat()}")
    return found


def emit_warnings(uow: UnitOfWork, today: date | None = None) -> tuple[int, int]:
    """Emit the events of loans newly overdue and warranties newly expiring; returns how many of each."""
    today = today or utcnow().date()
    days = warranty_days(uow)
    overdue = uow.session.scalars(
        select(Asset)
        .where(
            overdue_condition(today),
            or_(Asset.loan_warned_for.is_(None), Asset.loan_warned_for != Asset.expected_return),
        )
        .order_by(Asset.id)
        .limit(SCAN_LIMIT)
    ).all()
    for asset in overdue:
        uow.emit("assets.loan_overdue", payload=_payload(asset, expected_return=asset.expected_return))
        asset.loan_warned_for = asset.expected_return
    expiring = uow.session.scalars(
        select(Asset)
        .where(
            expiring_condition(today, days),
            or_(Asset.warranty_warned_for.is_(None), Asset.warranty_warned_for != Asset.warranty_end),
        )
        .order_by(Asset.id)
        .limit(SCAN_LIMIT)
    ).all()
    for asset in expiring:
        uow.emit("assets.warranty_expiring", payload=_payload(asset, warranty_end=asset.warranty_end))
        asset.warranty_warned_for = asset.warranty_end
    return len(overdue), len(expiring)


def scan(desk: Any) -> None:
    """The periodic job: emit the day's warnings."""
    with desk.action(SYSTEM, source="job") as uow:
        emit_warnings(uow)


def _payload(asset: Asset, **dates: date | None) -> dict[str, Any]:
    return {
        "asset_id": asset.id,
        "asset_tag": asset.asset_tag,
        "name": asset.name,
        "assigned_to": asset.assigned_to.email if asset.assigned_to else None,
        **{key: value.isoformat() if value else None for key, value in dates.items()},
    }
