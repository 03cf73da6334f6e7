"""Plugins around tickets: in-transaction checks, after-commit events from the outbox, extra fields."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from frontdesk import hookimpl
from frontdesk.config import Config
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import ValidationError
from frontdesk.events import MAX_ATTEMPTS
from frontdesk.models import Event, EventFailure, Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.queries import ticket_details
from frontdesk.services import comments, links, people, tickets


class Recorder:
    """Records every after-commit ticket event it receives."""

    NAME = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int | None, str | None]] = []

    def _note(self, event: Any, ticket: Any, actor: Any) -> None:
        self.seen.append((event.name, event.id, ticket.number if ticket else None, actor.email if actor else None))

    @hookimpl
    def frontdesk_ticket_created(self, event: Any, ticket: Any, actor: Any, desk: Any) -> None:
        assert isinstance(desk, Desk)
        self._note(event, ticket, actor)

    @hookimpl
    def frontdesk_ticket_updated(self, event: Any, ticket: Any, actor: Any) -> None:
        self._note(event, ticket, actor)

    @hookimpl
    def frontdesk_ticket_commented(self, event: Any, ticket: Any, actor: Any) -> None:
        self._note(event, ticket, actor)

    @hookimpl
    def frontdesk_ticket_status_changed(self, event: Any, ticket: Any, actor: Any) -> None:
        self._note(event, ticket, actor)

    @hookimpl
    def frontdesk_ticket_assigned(self, event: Any, ticket: Any, actor: Any) -> None:
        self._note(event, ticket, actor)

    @hookimpl
    def frontdesk_ticket_merged(self, event: Any, ticket: Any, actor: Any) -> None:
        self._note(event, ticket, actor)


class Flaky:
    """Fails on ticket creation a given number of times, then succeeds."""

    NAME = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    @hookimpl
    def frontdesk_ticket_created(self, event: Any) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"webhook down (call {self.calls})")


def make_desk(config: Config, *plugins: Any) -> Desk:
    return Desk(config, plugins=["webui", *plugins])


def create(desk: Desk, actor: Any = SYSTEM, **data: Any) -> Ticket:
    with desk.action(actor, source="test") as uow:
        return tickets.create_ticket(uow, {"subject": "VPN down", "requester": "rita@example.com", **data})


def events(desk: Desk) -> list[tuple[str, str, int]]:
    with desk.db.reading() as session:
        return [(e.name, e.state, e.attempts) for e in session.scalars(select(Event).order_by(Event.id))]


def test_hook_frontdesk_ticket_created_and_the_other_events_arrive_after_commit(desk_config: Config) -> None:
    recorder = Recorder()
    with make_desk(desk_config, recorder) as desk:
        with desk.action(SYSTEM, source="test") as uow:
            people.create_group(uow, {"name": "Support"})
            agent = people.create_user(
                uow, {"email": "a@example.com", "name": "A", "role": "agent", "groups": ["Support"]}
            )
        first = create(desk, group="Support")
        second = create(desk, group="Support")
        with desk.action(agent, source="test") as uow:
            comments.add_comment(uow, first.number, {"body": "On it"})
        with desk.action(agent, source="test") as uow:
            tickets.update_ticket(uow, first.number, {"assignee": "a@example.com", "priority": "high"})
        with desk.action(agent, source="test") as uow:
            links.merge_tickets(uow, second.number, first.number)
        assert {state for _name, state, _attempts in events(desk)} == {"delivered"}
    names = [(name, number, actor) for name, _id, number, actor in recorder.seen]
    assert names == [
        ("ticket.created", 1, None),
        ("ticket.created", 2, None),
        ("ticket.commented", 1, "a@example.com"),
        ("ticket.updated", 1, "a@example.com"),
        ("ticket.status_changed", 1, "a@example.com"),
        ("ticket.updated", 1, "a@example.com"),
        ("ticket.assigned", 1, "a@example.com"),
        ("ticket.merged", 2, "a@example.com"),
        ("ticket.updated", 2, "a@example.com"),
        ("ticket.status_changed", 2, "a@example.com"),
        ("ticket.updated", 1, "a@example.com"),
    ]
    ids = [event_id for _name, event_id, _number, _actor in recorder.seen]
    assert ids == sorted(ids)


def test_hook_frontdesk_ticket_commented_carries_the_comment(desk_config: Config) -> None:
    payloads: list[dict[str, Any]] = []

    class Listener:
        NAME = "listener"

        @hookimpl
        def frontdesk_ticket_commented(self, event: Any) -> None:
            payloads.append(event.payload)

    with make_desk(desk_config, Listener()) as desk:
        ticket = create(desk)
        with desk.action(SYSTEM, source="test") as uow:
            note = comments.add_comment(uow, ticket.number, {"body": "x", "public": False})
    assert payloads == [{"comment_id": note.id, "public": False, "by_staff": True}]


@pytest.fixture
def payloads(desk_config: Config) -> dict[str, list[dict[str, Any]]]:
    """Event payloads seen by a listener while a ticket is updated, assigned and merged."""
    payloads: dict[str, list[dict[str, Any]]] = {}

    class Listener:
        NAME = "listener"

        def _keep(self, event: Any) -> None:
            payloads.setdefault(event.name, []).append(event.payload)

        @hookimpl
        def frontdesk_ticket_updated(self, event: Any) -> None:
            self._keep(event)

        @hookimpl
        def frontdesk_ticket_status_changed(self, event: Any) -> None:
            self._keep(event)

        @hookimpl
        def frontdesk_ticket_assigned(self, event: Any) -> None:
            self._keep(event)

        @hookimpl
        def frontdesk_ticket_merged(self, event: Any) -> None:
            self._keep(event)

    with make_desk(desk_config, Listener()) as desk:
        with desk.action(SYSTEM, source="test") as uow:
            people.create_user(uow, {"email": "a@example.com", "name": "A", "role": "agent", "all_groups": True})
        one, two = create(desk), create(desk)
        with desk.action(SYSTEM, source="test") as uow:
            tickets.update_ticket(uow, one.number, {"status": "pending", "assignee": "a@example.com"})
        with desk.action(SYSTEM, source="test") as uow:
            links.merge_tickets(uow, two.number, one.number)
    return payloads


def test_hook_frontdesk_ticket_updated_payload(payloads: dict[str, list[dict[str, Any]]]) -> None:
    assert payloads["ticket.updated"][0] == {
        "changes": {"status": ["new", "pending"], "assignee": [None, "a@example.com"]}
    }
    assert payloads["ticket.updated"][1:] == [
        {"changes": {"status": ["new", "closed"], "merged_into": [None, 1]}},
        {"changes": {"merged_from": [None, 2]}},
    ]


def test_hook_frontdesk_ticket_status_changed_payload(payloads: dict[str, list[dict[str, Any]]]) -> None:
    assert payloads["ticket.status_changed"] == [{"from": "new", "to": "pending"}, {"from": "new", "to": "closed"}]


def test_hook_frontdesk_ticket_assigned_payload(payloads: dict[str, list[dict[str, Any]]]) -> None:
    assert payloads["ticket.assigned"] == [{"from": None, "to": "a@example.com"}]


def test_hook_frontdesk_ticket_merged_payload(payloads: dict[str, list[dict[str, Any]]]) -> None:
    assert payloads["ticket.merged"] == [{"into": 1}]


def test_events_nobody_consumes_are_stored_as_delivered(desk: Desk) -> None:
    create(desk)
    assert events(desk) == [("ticket.created", "delivered", 0)]


def test_a_failing_plugin_neither_blocks_others_nor_loses_the_event(desk_config: Config) -> None:
    recorder, flaky = Recorder(), Flaky(failures=2)
    with make_desk(desk_config, recorder, flaky) as desk:
        create(desk)
        assert [name for name, *_ in recorder.seen] == ["ticket.created"]
        assert events(desk) == [("ticket.created", "pending", 1)]
        with desk.db.reading() as session:
            failure = session.scalars(select(EventFailure)).one()
            assert (failure.plugin, failure.attempts, failure.error) == (
                "flaky",
                1,
                "ConnectionError: webhook down (call 1)",
            )
        report = desk.dispatcher.dispatch_pending()
        assert report.waiting == [1], "the retry waits for its backoff"
        later = utcnow() + timedelta(hours=1)
        assert desk.dispatcher.dispatch_pending(now=later).retrying == [1]
        assert desk.dispatcher.dispatch_pending(now=later + timedelta(hours=1)).delivered == [1]
        assert events(desk) == [("ticket.created", "delivered", 3)]
    assert flaky.calls == 3
    assert len(recorder.seen) == 1, "only the failing plugin is called again"


def test_a_plugin_that_keeps_failing_leaves_the_event_visible_as_failed(desk_config: Config) -> None:
    flaky = Flaky(failures=100)
    with make_desk(desk_config, flaky) as desk:
        create(desk)
        now = utcnow()
        for step in range(1, MAX_ATTEMPTS + 2):
            desk.dispatcher.dispatch_pending(now=now + timedelta(days=step))
        with desk.db.reading() as session:
            failure = session.scalars(select(EventFailure)).one()
            assert (failure.attempts, failure.given_up) == (MAX_ATTEMPTS, True)
        assert events(desk) == [("ticket.created", "failed", MAX_ATTEMPTS)]
    assert flaky.calls == MAX_ATTEMPTS


def test_later_events_of_a_ticket_wait_for_an_earlier_retry(desk_config: Config) -> None:
    recorder = Recorder()

    class FailsOnFirstTicket:
        NAME = "picky"
        failed = False

        @hookimpl
        def frontdesk_ticket_created(self, ticket: Any) -> None:
            if ticket.number == 1 and not self.failed:
                self.failed = True
                raise RuntimeError("not yet")

    with make_desk(desk_config, recorder, FailsOnFirstTicket()) as desk:
        first = create(desk)
        with desk.action(SYSTEM, source="test") as uow:
            tickets.update_ticket(uow, first.number, {"priority": "high"})
        create(desk)
        assert [(name, number) for name, _id, number, _actor in recorder.seen] == [
            ("ticket.created", 1),
            ("ticket.created", 2),
        ], "ticket 1's update waits behind its pending creation; ticket 2 is not held up"
        desk.dispatcher.dispatch_pending(now=utcnow() + timedelta(hours=1))
    assert [(name, number) for name, _id, number, _actor in recorder.seen][2:] == [("ticket.updated", 1)]


def test_an_exception_between_commit_and_delivery_loses_no_event(
    desk_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    with make_desk(desk_config, recorder) as desk:
        monkeypatch.setattr(desk.dispatcher, "deliver", lambda ids: (_ for _ in ()).throw(OSError("power cut")))
        ticket = create(desk)
        assert recorder.seen == []
        assert events(desk) == [("ticket.created", "pending", 0)]
    with make_desk(desk_config, recorder) as restarted:
        assert restarted.dispatcher.dispatch_pending().delivered == [1]
    assert [(name, number) for name, _id, number, _actor in recorder.seen] == [("ticket.created", ticket.number)]


KILLER = """
    import os, sys
    from frontdesk import hookimpl
    from frontdesk.config import Config
    from frontdesk.desk import Desk
    from frontdesk.permissions import SYSTEM
    from frontdesk.services import tickets

    class Killer:
        NAME = "killer"
        @hookimpl
        def frontdesk_ticket_created(self, event):
            os._exit(9)  # the process dies after commit, in the middle of delivery

    config = Config(
        instance_path=sys.argv[1], database_url=sys.argv[2], secret_key="k", strict_plugins=True, queue_url="memory://"
    )
    desk = Desk(config, plugins=["webui", Killer()])
    with desk.action(SYSTEM, source="test") as uow:
        tickets.create_ticket(uow, {"subject": "Survives a crash", "requester": "rita@example.com"})
    print("not reached")
"""


def test_a_killed_process_after_commit_loses_no_event(desk_config: Config, tmp_path: Path) -> None:
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    result = subprocess.run(
        [sys.executable, str(script), str(desk_config.instance_path), desk_config.database_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 9, result.stderr
    assert "not reached" not in result.stdout
    recorder = Recorder()
    with make_desk(desk_config, recorder) as desk:
        assert events(desk) == [("ticket.created", "pending", 0)]
        desk.dispatcher.dispatch_pending()
    assert [(name, number) for name, _id, number, _actor in recorder.seen] == [("ticket.created", 1)]


class Router:
    """Routes new tickets mentioning VPN to Network and refuses tickets from a blocked domain."""

    NAME = "router"

    @hookimpl
    def frontdesk_ticket_before_create(self, ticket: Any, actor: Any, uow: Any) -> None:
        if ticket.requester.email.endswith("@spam.example"):
            raise ValidationError({"requester": ["this domain is blocked"]})
        if "vpn" in ticket.subject.lower():
            from frontdesk.services.tickets import group_named

            ticket.group = group_named(uow, "Network")

    @hookimpl
    def frontdesk_ticket_before_update(self, ticket: Any, changes: dict[str, Any], actor: Any, uow: Any) -> None:
        if "priority" in changes and changes["priority"][1] == "urgent" and not ticket.group:
            raise ValidationError({"priority": ["urgent tickets need a group"]})

    @hookimpl
    def frontdesk_ticket_before_comment(self, ticket: Any, comment: Any, actor: Any, uow: Any) -> None:
        if "password" in comment.body.lower():
            raise ValidationError({"body": ["do not send passwords"]})


def test_hook_frontdesk_ticket_before_create_adjusts_or_refuses(desk_config: Config) -> None:
    with make_desk(desk_config, Router()) as desk:
        with desk.action(SYSTEM, source="test") as uow:
            people.create_group(uow, {"name": "Network"})
        assert create(desk, subject="My VPN is down").group_id is not None
        with pytest.raises(ValidationError, match="domain is blocked"):
            create(desk, requester="bot@spam.example")
        with desk.db.reading() as session:
            assert session.scalars(select(Ticket.subject)).all() == ["My VPN is down"]


def test_hook_frontdesk_ticket_before_update_can_refuse(desk_config: Config) -> None:
    with make_desk(desk_config, Router()) as desk:
        ticket = create(desk, subject="Printer")
        with pytest.raises(ValidationError, match="need a group"), desk.action(SYSTEM, source="test") as uow:
            tickets.update_ticket(uow, ticket.number, {"priority": "urgent"})
        with desk.reading(SYSTEM) as uow:
            assert ticket_details(uow, ticket.number)["priority"] == "normal"


def test_hook_frontdesk_ticket_before_comment_can_refuse(desk_config: Config) -> None:
    with make_desk(desk_config, Router()) as desk:
        ticket = create(desk, subject="Printer")
        with pytest.raises(ValidationError, match="passwords"), desk.action(SYSTEM, source="test") as uow:
            comments.add_comment(uow, ticket.number, {"body": "my password is hunter2"})
        with desk.reading(SYSTEM) as uow:
            assert ticket_details(uow, ticket.number)["comments"] == []
        assert [name for name, state, _ in events(desk)] == ["ticket.created"]


class Tracker:
    """Reacts to ticket creation and shows what it learnt as an extra field."""

    NAME = "tracker"

    def __init__(self) -> None:
        self.created: dict[int, int] = {}

    @hookimpl
    def frontdesk_ticket_created(self, event: Any, ticket: Any) -> None:
        self.created[ticket.number] = event.id

    @hookimpl
    def frontdesk_ticket_fields(self, ticket: Any, user: Any) -> dict[str, Any] | None:
        if ticket.number not in self.created:
            return None
        return {"creation_event": self.created[ticket.number], "viewer": user.email if user else "system"}


class BrokenFields:
    NAME = "brokenfields"

    @hookimpl
    def frontdesk_ticket_fields(self, ticket: Any, user: Any) -> dict[str, Any]:
        raise KeyError("oops")


def test_hook_frontdesk_ticket_fields_adds_plugin_fields_to_ticket_output(desk_config: Config) -> None:
    with make_desk(desk_config, Tracker(), BrokenFields()) as desk:
        ticket = create(desk)
        with desk.reading(SYSTEM) as uow:
            shown = ticket_details(uow, ticket.number)
    assert shown["extensions"] == {"tracker": {"creation_event": 1, "viewer": "system"}}


def test_the_sweep_job_delivers_events_left_pending(desk_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    with make_desk(desk_config, recorder) as desk:
        with monkeypatch.context() as patched:  # the delivery right after commit is lost
            patched.setattr(desk.dispatcher, "deliver", lambda ids: None)
            create(desk)
        desk.jobs.run_periodic("events.sweep")
        assert recorder.seen == []  # younger than a minute: it may still be on its way
        with desk.db.transaction() as session:
            session.execute(update(Event).values(created_at=utcnow() - timedelta(minutes=2)))
        desk.jobs.run_periodic("events.sweep", now=utcnow() + timedelta(minutes=1))
    assert [name for name, *_ in recorder.seen] == ["ticket.created"]
