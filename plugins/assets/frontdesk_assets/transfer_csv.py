"""CSV import and export of one asset type: field columns plus the type's attribute columns.

An import validates every row before it writes anything: each bad row is reported with its row
number, column and message, and nothing is written unless every row passes (``skip_invalid``
writes the good rows and reports the rest). Rows update the asset with the same tag (or, without
a tag, the same serial) and create the others; new assets are written with bulk inserts.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import aliased

from frontdesk.db import utcnow
from frontdesk.models import Organization, User
from frontdesk.text import csv_cell, from_csv_cell
from frontdesk.uow import UnitOfWork
from frontdesk_assets import history
from frontdesk_assets.asset_types import MANAGE, VIEW, get_type
from frontdesk_assets.inventory import apply_changes, next_tags
from frontdesk_assets.lookups import Lookups, chunks
from frontdesk_assets.models import Asset, AssetAttributeValue, AssetHistory, AssetType
from frontdesk_assets.prepare import Prepared, TypeRules, UniqueIndex
from frontdesk_assets.schemas import FIELD_NAMES

Progress = Callable[[int], None]
WRITE_BATCH = 5_000
SQLITE_IMPORT_CACHE_KB = 256 * 1024
FIRST_DATA_ROW = 2  # row 1 is the header


@dataclass(frozen=True)
class RowError:
    """One problem of one row: its number in the file (the header is row 1), the column, the message."""

    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def invalid_rows(self) -> int:
        """How many rows have at least one error."""
        return len({error.row for error in self.errors})


@dataclass
class _Row:
    number: int
    prepared: Prepared
    current: Asset | None


def columns_of(asset_type: AssetType) -> list[str]:
    """The CSV columns of a type: the asset fields, then its attributes."""
    return [*FIELD_NAMES, *(a.name for a in asset_type.attributes)]


def import_csv(
    uow: UnitOfWork,
    type_key: str,
    source: TextIO | Iterable[str],
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row of a CSV file of ``type_key`` assets, then write them unless a row is bad.

    :param dry_run: validate and count, write nothing.
    :param skip_invalid: write the valid rows even when others are bad (they are reported).
    :param progress: called with the number of rows just handled, for a progress bar.
    """
    uow.require(MANAGE)
    rules = TypeRules(get_type(uow, type_key))
    report = ImportReport()
    reader = csv.DictReader(source)
    header = reader.fieldnames or []
    allowed = set(columns_of(rules.type))
    unknown = [name for name in header if name not in allowed]
    if not header or unknown:
        message = f"unknown column; columns are: {', '.join(columns_of(rules.type))}"
        report.errors = [RowError(1, name, message) for name in unknown] or [RowError(1, "", "the file is empty")]
        return report
    raw = [
        (number, {key: from_csv_cell(value) if isinstance(value, str) else value for key, value in row.items()})
        for number, row in enumerate(reader, start=FIRST_DATA_ROW)
    ]
    report.rows = len(raw)
    attribute_names = set(rules.attributes)
    lookups = Lookups(uow)
    existing = _existing(uow, raw)
    _prefetch(lookups, rules, raw)
    rows: list[_Row] = []
    for number, row in raw:
        if None in row:  # more cells than columns
            report.errors.append(RowError(number, "", "the row has more cells than the header"))
            continue
        data: dict[str, Any] = {k: v.strip() for k, v in row.items() if k not in attribute_names and v and v.strip()}
        attributes = {k: v.strip() for k, v in row.items() if k in attribute_names and v and v.strip()}
        if attributes:
            data["attributes"] = attributes
        current = _match(existing, data)
        errors = _check_match(current, rules)
        prepared = None
        if not errors:
            prepared, errors = rules.validate(data, lookups, current=current, transitions=True)
        for column, messages in sorted(errors.items()):
            report.errors.extend(RowError(number, column.removeprefix("attributes."), m) for m in messages)
        if prepared is not None:
            rows.append(_Row(number, prepared, current))
        if progress and number % 1000 == 0:
            progress(1000)
    unique = UniqueIndex(uow, rules)
    unique.load([(r.prepared, r.current) for r in rows])
    valid: list[_Row] = []
    for r in rows:
        errors = unique.claim(r.prepared, r.current)
        for column, messages in sorted(errors.items()):
            report.errors.extend(RowError(r.number, column.removeprefix("attributes."), m) for m in messages)
        if not errors:
            valid.append(r)
    report.errors.sort(key=lambda e: (e.row, e.column))
    if progress:
        progress(len(raw) % 1000)
    bad_rows = {error.row for error in report.errors}
    valid = [r for r in valid if r.number not in bad_rows]
    creates = [r for r in valid if r.current is None]
    updates = [r for r in valid if r.current is not None]
    report.created = len(creates)
    if dry_run or (report.errors and not skip_invalid):
        report.updated = len(updates)
        return report
    with _large_cache(uow):
        _insert(uow, rules.type, creates)
    for r in updates:
        assert r.current is not None
        if apply_changes(uow, r.current, r.prepared):
            report.updated += 1
        else:
            report.unchanged += 1
    report.written = True
    return report


def export_csv(uow: UnitOfWork, type_key: str, out: TextIO) -> int:
    """Write every asset of ``type_key`` as CSV with the import's columns; returns how many."""
    uow.require(VIEW)
    asset_type = get_type(uow, type_key)
    columns = columns_of(asset_type)
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for row in _export_rows(uow, asset_type):
        writer.writerow([csv_cell(row.get(column, "")) for column in columns])
        count += 1
    return count


def _export_rows(uow: UnitOfWork, asset_type: AssetType) -> Iterator[dict[str, Any]]:
    holder, organization = aliased(User), aliased(Organization)
    query = (
        select(Asset, holder.email, organization.name)
        .outerjoin(holder, holder.id == Asset.assigned_to_id)
        .outerjoin(organization, organization.id == Asset.organization_id)
        .where(Asset.type_id == asset_type.id)
        .order_by(Asset.id)
        .execution_options(yield_per=2_000)
    )
    for asset, email, organization_name in uow.session.execute(query):
        row = {name: history.as_text(getattr(asset, name, None)) or "" for name in FIELD_NAMES}
        row.update(assigned_to=email or "", organization=organization_name or "")
        row.update({k: "" if v is None else v for k, v in (asset.attributes or {}).items()})
        yield row
        uow.session.expunge(asset)


@dataclass
class _Existing:
    """Assets the rows could update: by tag, and by serial (several models may share one)."""

    by_tag: dict[str, Asset] = field(default_factory=dict)
    by_serial: dict[str, list[Asset]] = field(default_factory=dict)


def _existing(uow: UnitOfWork, raw: list[tuple[int, dict[str, Any]]]) -> _Existing:
    tags = {(row.get("asset_tag") or "").strip() for _, row in raw} - {""}
    serials = {(row.get("serial") or "").strip() for _, row in raw if not (row.get("asset_tag") or "").strip()}
    found = _Existing()
    for batch in chunks(tags):
        found.by_tag.update(
            {a.asset_tag: a for a in uow.session.scalars(select(Asset).where(Asset.asset_tag.in_(batch)))}
        )
    for batch in chunks(serials - {""}):
        for asset in uow.session.scalars(select(Asset).where(Asset.serial.in_(batch))):
            found.by_serial.setdefault(asset.serial or "", []).append(asset)
    return found


def _match(existing: _Existing, data: dict[str, Any]) -> Asset | None:
    tag = data.get("asset_tag")
    if tag:
        return existing.by_tag.get(tag)
    serial = data.get("serial")
    candidates = existing.by_serial.get(serial, []) if serial else []
    same_model = [a for a in candidates if a.model == data.get("model", a.model)]
    return same_model[0] if len(same_model) == 1 else None


def _check_match(current: Asset | None, rules: TypeRules) -> dict[str, list[str]]:
    if current is not None and current.type_id != rules.type.id:
        return {"asset_tag": [f"{current.asset_tag} is a {current.type.name}, not a {rules.type.name}"]}
    return {}


def _prefetch(lookups: Lookups, rules: TypeRules, raw: list[tuple[int, dict[str, Any]]]) -> None:
    people = [a.name for a in rules.attributes.values() if a.kind == "person"]
    references = [a.name for a in rules.attributes.values() if a.kind == "asset"]
    emails = [v for _, row in raw for k in ("assigned_to", *people) if (v := (row.get(k) or "").strip())]
    organizations = [v for _, row in raw if (v := (row.get("organization") or "").strip())]
    tags = [v for _, row in raw for k in references if (v := (row.get(k) or "").strip())]
    lookups.prefetch(emails, organizations, tags)


@contextmanager
def _large_cache(uow: UnitOfWork) -> Iterator[None]:
    """On SQLite, a page cache big enough for the indexes a bulk insert touches (the default 2 MB spills)."""
    connection = uow.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def _insert(uow: UnitOfWork, asset_type: AssetType, creates: list[_Row]) -> None:
    """Bulk-insert new assets with their indexed values and a "created" history row each."""
    if not creates:
        return
    now = utcnow()
    untagged = [r for r in creates if not r.prepared.columns.get("asset_tag")]
    for r, tag in zip(untagged, next_tags(uow, asset_type, len(untagged)), strict=True):
        r.prepared.columns["asset_tag"] = tag
    defaults = {
        "serial": None,
        "model": "",
        "manufacturer": "",
        "assigned_to_id": None,
        "expected_return": None,
        "location": "",
        "organization_id": None,
        "vendor": "",
        "purchase_date": None,
        "purchase_cost": None,
        "warranty_end": None,
        "seats_total": None,
        "notes": "",
    }
    assets = Asset.__table__
    for batch in chunks(creates, WRITE_BATCH):
        rows = [
            {
                **defaults,
                **r.prepared.columns,
                "type_id": asset_type.id,
                "attributes": r.prepared.attributes or {},
                "assigned_at": now if r.prepared.columns.get("assigned_to_id") else None,
                "created_at": now,
                "updated_at": now,
            }
            for r in batch
        ]
        uow.session.execute(assets.insert(), rows)  # one executemany; ids are read back by tag
        tags = [r.prepared.columns["asset_tag"] for r in batch]
        query = select(assets.c.asset_tag, assets.c.id).where(assets.c.asset_tag.in_(tags))
        id_of = dict(uow.session.execute(query).all())
        ids = [id_of[tag] for tag in tags]
        values = [
            {"asset_id": asset_id, "attribute_id": attribute_id, "value_text": text, "value_number": number}
            for asset_id, r in zip(ids, batch, strict=True)
            for attribute_id, (text, number) in r.prepared.indexed.items()
            if (text, number) != (None, None)
        ]
        if values:
            uow.session.execute(AssetAttributeValue.__table__.insert(), values)
        uow.session.execute(
            AssetHistory.__table__.insert(),
            [
                history.row(uow, asset_id, "created", None, r.prepared.columns["asset_tag"], now)
                for asset_id, r in zip(ids, batch, strict=True)
            ],
        )


def report_lines(report: ImportReport, *, limit: int = 50) -> list[str]:
    """The report's errors as lines people read: ``row 7, serial: another asset has ...``."""
    lines = [f"row {e.row}, {e.column or 'row'}: {e.message}" for e in report.errors[:limit]]
    if len(report.errors) > limit:
        lines.append(f"... and {len(report.errors) - limit} more")
    return lines
