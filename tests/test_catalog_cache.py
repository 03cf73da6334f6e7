"""The in-memory catalog: look-ups without queries, and never an older catalog than the database holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from frontdesk.desk import Desk
from frontdesk.errors import ValidationError
from frontdesk.permissions import SYSTEM
from frontdesk.services import catalog, people, tickets, workflow


@contextmanager
def statements(desk: Desk) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(desk.db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", listener)


def file_ticket(desk: Desk, **data: Any) -> tickets.Ticket:
    values = {"subject": "Printer jammed", "requester": "rita@example.com"} | data
    with desk.action(SYSTEM, source="test") as uow:
        return tickets.create_ticket(uow, values)


def token(desk: Desk) -> int:
    with desk.db.engine.connect() as connection:
        return connection.execute(text("SELECT token FROM catalog_revision")).scalar_one()


@pytest.fixture
def support(desk: Desk) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})


def test_a_warm_cache_files_a_ticket_without_reading_the_catalog_tables(desk: Desk, support: None) -> None:
    file_ticket(desk, group="Support", priority="high", type="incident")
    with statements(desk) as seen:
        ticket = file_ticket(desk, group="support", priority="HIGH", type="Incident")
    read = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in read if any(f"FROM {t}" in s for t in ("statuses", "priorities", "ticket_types", "groups"))]
    assert (ticket.group.name, ticket.priority.name, ticket.type.name, ticket.status.name) == (
        "Support",
        "high",
        "incident",
        "new",
    )


def test_changes_written_past_the_services_are_seen_at_once(desk: Desk, support: None) -> None:
    file_ticket(desk, group="Support")
    with desk.db.engine.begin() as connection:  # another process, a console, a migration...
        connection.execute(text("UPDATE statuses SET name = 'fresh' WHERE name = 'new'"))
        connection.execute(text("UPDATE groups SET name = 'Helpdesk' WHERE name = 'Support'"))
        connection.execute(text("UPDATE priorities SET is_default = (name = 'low')"))
    ticket = file_ticket(desk, group="Helpdesk")
    assert (ticket.status.name, ticket.group.name, ticket.priority.name) == ("fresh", "Helpdesk", "low")
    with pytest.raises(ValidationError, match="no group named 'Support'"):
        file_ticket(desk, group="Support")


def test_another_desk_on_the_same_database_sees_a_new_default_at_once(desk: Desk, support: None) -> None:
    file_ticket(desk)
    other = desk.reload()
    try:
        with other.action(SYSTEM, source="test") as uow:
            urgent = workflow.priority_named(uow, "urgent")
            catalog.update_priority(uow, urgent.id, {"is_default": True})
    finally:
        other.close()
    assert file_ticket(desk).priority.name == "urgent"


def test_a_change_in_the_same_action_is_used_and_a_rolled_back_one_forgotten(desk: Desk, support: None) -> None:
    file_ticket(desk, group="Support")
    with pytest.raises(RuntimeError), desk.action(SYSTEM, source="test") as uow:
        group = tickets.group_named(uow, "Support")
        people.update_group(uow, group.id, {"name": "Second line"})
        assert tickets.group_named(uow, "second line").id == group.id
        waiting = catalog.create_status(uow, {"name": "waiting", "category": "pending"})
        assert workflow.status_named(uow, "Waiting").id == waiting.id
        raise RuntimeError("roll back")
    assert file_ticket(desk, group="support").group.name == "Support"
    with pytest.raises(ValidationError, match="no group named"):
        file_ticket(desk, group="Second line")
    with desk.action(SYSTEM, source="test") as uow, pytest.raises(ValidationError, match="no status named"):
        workflow.status_named(uow, "waiting")


def test_savepoints_keep_the_snapshot_unless_they_roll_back(desk: Desk, support: None) -> None:
    """A mail import files each message in a savepoint: the token is read once per transaction, not per message."""
    with desk.action(SYSTEM, source="test") as uow, statements(desk) as seen:
        for _ in range(3):
            with uow.savepoint():
                tickets.create_ticket(uow, {"subject": "Printer jammed", "requester": "rita@example.com"})
        assert sum("catalog_revision" in statement for statement in seen) == 1
        with pytest.raises(RuntimeError), uow.savepoint():
            group = tickets.group_named(uow, "Support")
            people.update_group(uow, group.id, {"name": "Second line"})
            assert tickets.group_named(uow, "second line").id == group.id
            raise RuntimeError("roll back")
        assert tickets.group_named(uow, "support").name == "Support"
        with pytest.raises(ValidationError, match="no group named"):
            tickets.group_named(uow, "Second line")


def test_every_catalog_table_changes_the_token(desk: Desk) -> None:
    """The triggers of migration 0008 are in place (a table rebuilt by a later migration would lose them)."""
    changes = (
        "INSERT INTO groups (name, description, created_at) VALUES ('Tier 2', '', '2026-01-01 00:00:00')",
        "UPDATE groups SET description = 'second level' WHERE name = 'Tier 2'",
        "DELETE FROM groups WHERE name = 'Tier 2'",
        "INSERT INTO statuses (name, category, position, is_default) VALUES ('waiting', 'pending', 99, false)",
        "UPDATE statuses SET position = 98 WHERE name = 'waiting'",
        "DELETE FROM statuses WHERE name = 'waiting'",
        "INSERT INTO priorities (name, rank, is_default) VALUES ('meh', 1, false)",
        "UPDATE priorities SET rank = 2 WHERE name = 'meh'",
        "DELETE FROM priorities WHERE name = 'meh'",
        "INSERT INTO ticket_types (name, position) VALUES ('chore', 99)",
        "UPDATE ticket_types SET position = 98 WHERE name = 'chore'",
        "DELETE FROM ticket_types WHERE name = 'chore'",
    )
    for change in changes:
        before = token(desk)
        with desk.db.engine.begin() as connection:
            connection.execute(text(change))
        assert token(desk) != before, change
