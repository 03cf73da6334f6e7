"""Assets benchmark: CSV import rate, the asset list page at 100,000 assets, impact traversal over a large CMDB.

Run ``.venv/bin/python bench/assets.py [--backend sqlite|postgresql|both] [--rows 100000]
[--relations 300000]``. It prints figures and never fails on timing.

1. **Import**: a CSV file of ``--rows`` laptops (tag numbered by the desk, name, serial, model, status,
   purchase date and cost, warranty end, two attributes of which one is indexed; one in ten assigned to
   one of 500 people) is imported with the service the CLI uses (``import_csv``: every row validated
   first, then bulk inserts), in one transaction. Target: at least 5,000 rows/s on SQLite for 100,000 rows.
2. **List page**: an agent opens ``/assets/`` through the Flask application in this process (WSGI, no
   network): the first page of 50, a page filtered by type and status, a search by serial, and the
   tenth page by cursor; 3 warm-up requests and 30 measured each, from the request to the last byte.
   Target: at most 50 ms.
3. **Impact**: the imported assets are the configuration items; ``--relations`` random typed relations
   are bulk-inserted between them. ``cmdb.impact`` walks "what is affected" and "what it depends on"
   to depth 5 from 50 random items each (one query per level). Target: at most 100 ms.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fixtures import DEFAULT_POSTGRES_URL, SEED, Summary, percentile, run_backends
from frontdesk_assets import cmdb
from frontdesk_assets.models import Asset, AssetRelation
from frontdesk_assets.transfer_csv import import_csv
from sqlalchemy import func, select, text

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk.services import people
from frontdesk.services.passwords import hash_password

IMPORT_TARGET = 5_000.0  # rows/s
PAGE_TARGET_MS = 50.0
IMPACT_TARGET_MS = 100.0
WARM_UP, RUNS = 3, 30
WALKS = 50
PEOPLE = 500
AGENT = "bench-agent@example.com"
PASSWORD = "bench-password"  # noqa: S105 (a throwaway desk)
KINDS = ["depends_on", "runs_on", "connected_to", "installed_on", "part_of"]
HEADER = "name,serial,model,status,assigned_to,purchase_date,purchase_cost,warranty_end,ram_gb,os\n"


def make_desk(url: str, instance: Path) -> Desk:
    config = Config(instance_path=instance, database_url=url, secret_key="bench", queue_url="memory://")  # noqa: S106
    desk = Desk(config, plugins=["webui", "assets"])
    migrate.upgrade_all(desk)
    return desk


def csv_text(rows: int, rng: random.Random) -> str:
    """``rows`` laptops as the CSV an inventory export from elsewhere would give."""
    today = date.today()
    lines = [HEADER]
    systems = ["Windows", "macOS", "Linux"]
    for n in range(rows):
        holder = f"person{rng.randrange(PEOPLE)}@example.com" if n % 10 == 0 else ""
        status = "deployed" if holder else rng.choice(["in_stock", "in_stock", "ordered"])
        warranty = today + timedelta(days=rng.randrange(-400, 1100))
        lines.append(
            f"Laptop {n},SN{n:08d},{rng.choice(['X1', 'T14', 'XPS 13', 'MacBook Air'])},{status},{holder},"
            f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)},{rng.randrange(600, 2500)}.00,{warranty.isoformat()},"
            f"{rng.choice([8, 16, 32])},{rng.choice(systems)}\n"
        )
    return "".join(lines)


def bench_import(backend: str, desk: Desk, rows: int, summary: Summary) -> None:
    rng = random.Random(SEED)
    with desk.action(SYSTEM, source="bench") as uow:
        for n in range(PEOPLE):
            people.create_user(uow, {"email": f"person{n}@example.com", "name": f"Person {n}"})
        people.create_user(uow, {"email": AGENT, "name": "Bench agent", "role": "agent"})
        uow.session.execute(
            User.__table__.update().where(User.email == AGENT).values(password_hash=hash_password(PASSWORD))
        )
    source = csv_text(rows, rng)
    started, cpu = time.perf_counter(), time.process_time()
    with desk.action(SYSTEM, source="bench") as uow:
        report = import_csv(uow, "laptop", io.StringIO(source))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    if report.errors or report.created != rows:
        raise RuntimeError(f"import failed: {report.errors[:3]}")
    rate = rows / seconds
    print(
        f"{backend}: imported {rows:,} rows in {seconds:.1f} s: {rate:,.0f} rows/s "
        f"({cpu_seconds:.1f} s of CPU in this process: {rows / cpu_seconds:,.0f} rows per CPU second)",
        flush=True,
    )
    verdict = ("ok" if rate >= IMPORT_TARGET else "SLOW") if backend == "sqlite" else ""
    summary.add(backend, f"CSV import, {rows:,} rows", f"{rate:,.0f} rows/s", f">= {IMPORT_TARGET:,.0f}", verdict)
    _analyze(desk)


def _analyze(desk: Desk) -> None:
    with desk.db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def time_page(client: Any, url: str) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each measured request."""
    timings, cpu = [], []
    for run in range(WARM_UP + RUNS):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        response.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if run >= WARM_UP:
            timings.append(elapsed)
            cpu.append((time.process_time() - cpu_started) * 1000)
    return timings, cpu


def bench_list(backend: str, desk: Desk, summary: Summary) -> None:
    app = desk.plugins.calls.first("frontdesk_make_wsgi_app", desk=desk)
    app.config.update(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    client.post("/login", data={"email": AGENT, "password": PASSWORD})
    with desk.db.reading() as session:
        count = session.scalar(select(func.count()).select_from(Asset))
        tenth = session.scalar(select(Asset.id).order_by(Asset.id.desc()).offset(450).limit(1))
    pages = {
        "first page": "/assets/",
        "type + status": "/assets/?type=laptop&status=in_stock",
        "search by serial": "/assets/?q=SN00031337",
        "tenth page (cursor)": f"/assets/?cursor={tenth}",
    }
    for label, url in pages.items():
        timings, cpu = time_page(client, url)
        median, p95 = statistics.median(timings), percentile(timings, 0.95)
        print(
            f"{backend}: list {label} at {count:,} assets: median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(CPU median {statistics.median(cpu):.1f} ms)",
            flush=True,
        )
        verdict = "ok" if p95 <= PAGE_TARGET_MS else "SLOW"
        summary.add(
            backend, f"asset list, {label} ({count:,})", f"p95 {p95:.1f} ms", f"<= {PAGE_TARGET_MS:.0f} ms", verdict
        )


def bench_impact(backend: str, desk: Desk, relations: int, summary: Summary) -> None:
    rng = random.Random(SEED + 1)
    with desk.db.reading() as session:
        ids = list(session.scalars(select(Asset.id)))
    seen: set[tuple[int, int, str]] = set()
    rows = []
    while len(rows) < relations:
        source, target, kind = rng.choice(ids), rng.choice(ids), rng.choice(KINDS)
        if source != target and (source, target, kind) not in seen:
            seen.add((source, target, kind))
            rows.append({"source_id": source, "target_id": target, "kind": kind})
    started = time.perf_counter()
    with desk.db.transaction() as session:
        for start in range(0, len(rows), 10_000):
            session.execute(AssetRelation.__table__.insert(), rows[start : start + 10_000])
    print(f"{backend}: {relations:,} relations inserted in {time.perf_counter() - started:.1f} s", flush=True)
    _analyze(desk)
    with desk.db.reading() as session:
        tags = [session.get(Asset, asset_id).asset_tag for asset_id in rng.sample(ids, WALKS)]  # type: ignore[union-attr]
    for direction in (cmdb.Direction.IMPACT, cmdb.Direction.DEPENDENCIES):
        timings, cpu, reached = [], [], []
        for tag in tags:
            started, cpu_started = time.perf_counter(), time.process_time()
            with desk.reading(SYSTEM) as uow:
                result = cmdb.impact(uow, tag, direction, depth=5)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            reached.append(len(result.nodes))
        median, p95 = statistics.median(timings), percentile(timings, 0.95)
        print(
            f"{backend}: {direction} depth 5 over {len(ids):,} items / {relations:,} relations: "
            f"median {median:.1f} ms, p95 {p95:.1f} ms (CPU median {statistics.median(cpu):.1f} ms), "
            f"median {statistics.median(reached):,.0f} items reached",
            flush=True,
        )
        verdict = "ok" if p95 <= IMPACT_TARGET_MS else "SLOW"
        summary.add(
            backend,
            f"{direction} depth 5 ({len(ids):,} CIs, {relations:,} relations)",
            f"p95 {p95:.1f} ms",
            f"<= {IMPACT_TARGET_MS:.0f} ms",
            verdict,
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows imported (the assets of the other runs)")
    parser.add_argument("--relations", type=int, default=300_000, help="relations between them")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> Callable[[str, str, Path, Summary], None]:
    def run(backend: str, url: str, workdir: Path, summary: Summary) -> None:
        desk = make_desk(url, workdir / "instance")
        try:
            bench_import(backend, desk, args.rows, summary)
            bench_list(backend, desk, summary)
            bench_impact(backend, desk, args.relations, summary)
        finally:
            desk.close()

    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_backends("assets benchmark", args.backend, args.postgres_url, "assets", measure(args))


if __name__ == "__main__":
    sys.exit(main())
