"""Compliance reports: share of settled clocks that met their target, and median / p90 business minutes."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import func, or_, select

from frontdesk.errors import ValidationError
from frontdesk.models import Group, Ticket
from frontdesk.text import csv_cell
from frontdesk.uow import UnitOfWork
from frontdesk_sla import services
from frontdesk_sla.models import SlaClock, SlaPolicy

DIMENSIONS = ("policy", "group", "priority", "month")


@dataclass(frozen=True)
class ReportRow:
    """One group of settled clocks of one metric."""

    key: str
    metric: str
    clocks: int
    met: int
    compliance: float
    median_minutes: float
    p90_minutes: float


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted ``values`` (0 for none)."""
    if not values:
        return 0.0
    rank = max(1, -(-len(values) * share // 1))
    return values[int(rank) - 1]


def compliance(
    uow: UnitOfWork, *, by: str = "policy", since: datetime | None = None, until: datetime | None = None
) -> list[ReportRow]:
    """Settled clocks started in ``[since, until)`` grouped by ``by`` and metric.

    A clock is settled when it was fulfilled or breached; it met its target when it was fulfilled
    by its due time. Times are the business (or calendar) minutes the clock ran, pauses excluded.
    """
    uow.require(services.VIEW)
    if by not in DIMENSIONS:
        raise ValidationError({"by": [f"one of {', '.join(DIMENSIONS)}"]})
    key_column: Any = {
        "policy": func.coalesce(SlaPolicy.name, "(deleted policy)"),
        "group": func.coalesce(Group.name, "(no group)"),
        "priority": SlaClock.priority,
        "month": SlaClock.started_at,
    }[by]
    query = (
        select(key_column, SlaClock.metric, SlaClock.elapsed_minutes, SlaClock.fulfilled_at, SlaClock.breached_at)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .outerjoin(SlaPolicy, SlaPolicy.id == SlaClock.policy_id)
        .outerjoin(Group, Group.id == Ticket.group_id)
        .where(or_(SlaClock.fulfilled_at.is_not(None), SlaClock.breached_at.is_not(None)))
    )
    if since is not None:
        query = query.where(SlaClock.started_at >= since)
    if until is not None:
        query = query.where(SlaClock.started_at < until)
    groups: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    for key, metric, elapsed, fulfilled_at, breached_at in uow.session.execute(query):
        label = key.strftime("%Y-%m") if by == "month" else str(key)
        groups[(label, metric)].append((elapsed, fulfilled_at is not None and breached_at is None))
    rows = []
    for (label, metric), found in sorted(groups.items()):
        times = sorted(elapsed for elapsed, _ in found)
        met = sum(1 for _, ok in found if ok)
        rows.append(
            ReportRow(
                key=label,
                metric=metric,
                clocks=len(found),
                met=met,
                compliance=round(100 * met / len(found), 1),
                median_minutes=round(median(times), 1),
                p90_minutes=round(percentile(times, 0.9), 1),
            )
        )
    return rows


def as_csv(rows: list[ReportRow]) -> str:
    """The report as CSV with a header line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ReportRow.__dataclass_fields__))
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in asdict(row).items()})
    return out.getvalue()
