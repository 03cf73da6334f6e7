"""Web benchmark: server time of the agent's busiest pages at a million tickets.

Run ``.venv/bin/python bench/web.py [--backend sqlite|postgresql|both] [--tickets 1000000] [--comments 200]``.
It prints figures and never fails on timing.

A desk is bulk-loaded with ``--tickets`` tickets (``fixtures.load_fixture``: 20 uneven groups, a year
of history, analyzed), the queue agent of the biggest group signs in, and one ticket of that group
gets ``--comments`` comments through the services (replies, notes, field changes between them). Then
each page is requested through the Flask application in this process (WSGI, no network), 3 times to
warm up and 30 times measured, from the request to the last byte of the answer:

1. the group's queue (``/agent/groups/<id>``: rail counts, the first 25 open tickets);
2. the ticket page with its comments (``/agent/tickets/<n>``: thread, history, automation log,
   sidebar);
3. the dashboard (``/agent/dashboard``: workload, backlog by group), for comparison.

Target: at most 150 ms for the list and for the ticket with 200 comments, on SQLite at 1,000,000 tickets.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

from fixtures import (
    DEFAULT_POSTGRES_URL,
    QUEUE_AGENT,
    QUEUE_GROUP,
    Summary,
    load_fixture,
    percentile,
    run_backends,
)

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, people, tickets
from frontdesk.services.passwords import hash_password

TARGET_MS = 150.0
WARM_UP, RUNS = 3, 30


def make_desk(url: str, instance: Path) -> Desk:
    config = Config(instance_path=instance, database_url=url, secret_key="bench", queue_url="memory://")  # noqa: S106
    desk = Desk(config, plugins=["webui"])
    migrate.upgrade_all(desk)
    return desk


def busy_ticket(desk: Desk, n_comments: int) -> int:
    """A ticket of the queue's group with a long thread: replies both ways, notes, and changes in between."""
    agent = people_by_email(desk, QUEUE_AGENT)
    with desk.action(SYSTEM, source="bench") as uow:
        number = tickets.create_ticket(
            uow,
            {"subject": "Laptop overheats during calls", "requester": "customer1@example.com", "group": QUEUE_GROUP},
        ).number
    requester = people_by_email(desk, "customer1@example.com")
    for i in range(n_comments):
        author, public = (agent, i % 4 != 3) if i % 2 == 0 else (requester, True)
        with desk.action(author, source="bench") as uow:
            comments.add_comment(uow, number, {"body": f"Message {i}: " + "details " * 30, "public": public})
        if i % 10 == 5:
            with desk.action(agent, source="bench") as uow:
                tickets.update_ticket(uow, number, {"add_tags": [f"step-{i}"]})
    return number


def people_by_email(desk: Desk, email: str) -> object:
    with desk.reading(SYSTEM) as uow:
        return people.find_user(uow, email)


def timed(client: object, path: str) -> list[float]:
    times = []
    for run in range(WARM_UP + RUNS):
        start = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        body = response.get_data()
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code)
        assert body
        if run >= WARM_UP:
            times.append(elapsed)
    return times


def bench(backend: str, url: str, workdir: Path, n: int, n_comments: int, summary: Summary) -> None:
    from frontdesk_webui.app import create_app

    desk = make_desk(url, workdir / "instance")
    try:
        load_fixture(desk, n, backend)
        with desk.action(SYSTEM, source="bench") as uow:
            agent = people.find_user(uow, QUEUE_AGENT)
            agent.password_hash = hash_password("bench password")
            group_id = people.find_group(uow, QUEUE_GROUP).id
        number = busy_ticket(desk, n_comments)
        app = create_app(desk)
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        signed_in = client.post("/login", data={"email": QUEUE_AGENT, "password": "bench password"})
        assert signed_in.status_code == 302, signed_in.status_code
        pages = [
            ("queue list", f"/agent/groups/{group_id}"),
            (f"ticket with {n_comments} comments", f"/agent/tickets/{number}"),
            ("dashboard", "/agent/dashboard"),
        ]
        for label, path in pages:
            times = timed(client, path)
            median, p95 = statistics.median(times), percentile(times, 0.95)
            html = client.get(path).get_data(as_text=True)
            rows = len(re.findall(r'class="ticket-row"', html)) or len(
                re.findall(r'<article class="card message', html)
            )
            print(f"{backend}: {label} ({path}): median {median:.1f} ms, p95 {p95:.1f} ms ({rows} rows or messages)")
            target = f"<= {TARGET_MS:.0f} ms" if label != "dashboard" else ""
            verdict = ("met" if p95 <= TARGET_MS else "MISSED") if target else ""
            summary.add(backend, f"{label} at {n:,} tickets, p95", f"{p95:.1f} ms", target, verdict)
    finally:
        desk.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="maintenance database of the server")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run(backend: str, url: str, workdir: Path, summary: Summary) -> None:
        bench(backend, url, workdir, args.tickets, args.comments, summary)

    return run_backends("web benchmark", args.backend, args.postgres_url, "web", run)


if __name__ == "__main__":
    sys.exit(main())
