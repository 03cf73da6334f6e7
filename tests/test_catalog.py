"""Catalog services: statuses, priorities and types as admins configure them, and tag counts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import Event, Priority, Status, Ticket, TicketType
from frontdesk.permissions import SYSTEM
from frontdesk.services import catalog, people, tickets


def act(desk: Desk, function: Any, *args: Any, actor: Any = SYSTEM) -> Any:
    with desk.action(actor, source="test") as uow:
        return function(uow, *args)


def read(desk: Desk, function: Any, *args: Any, actor: Any = SYSTEM, **kwargs: Any) -> Any:
    with desk.reading(actor) as uow:
        return function(uow, *args, **kwargs)


def status_id(desk: Desk, name: str) -> int:
    with desk.db.reading() as session:
        return session.scalar(select(Status.id).where(Status.name == name))


def defaults(desk: Desk) -> dict[str, list[str]]:
    """Default status names by category, plus the default priorities under "priority"."""
    with desk.db.reading() as session:
        found: dict[str, list[str]] = {}
        for status in session.scalars(select(Status).where(Status.is_default).order_by(Status.name)):
            found.setdefault(status.category, []).append(status.name)
        found["priority"] = list(session.scalars(select(Priority.name).where(Priority.is_default)))
        return found


def new_ticket(desk: Desk, **data: Any) -> Ticket:
    values = {"subject": "Printer jammed", "requester": "rita@example.com"} | data
    return act(desk, tickets.create_ticket, values)


# Permissions and validation


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_only_admins_configure(desk: Desk, make_user: Any, role: str) -> None:
    user = make_user(role=role)
    for function, data in (
        (catalog.create_status, {"name": "waiting", "category": "pending"}),
        (catalog.create_priority, {"name": "meh", "rank": 5}),
        (catalog.create_type, {"name": "chore"}),
    ):
        with pytest.raises(PermissionDenied, match=r"desk\.configure"):
            act(desk, function, data, actor=user)
    with pytest.raises(PermissionDenied):
        act(desk, catalog.update_status, status_id(desk, "open"), {"name": "opened"}, actor=user)
    with pytest.raises(PermissionDenied):
        act(desk, catalog.delete_type, 1, actor=user)
    admin = make_user(role="admin")
    assert act(desk, catalog.create_type, {"name": "chore"}, actor=admin).position == 50


def test_anyone_signed_in_reads_the_catalog_but_nobody_anonymous(desk: Desk, make_user: Any) -> None:
    requester = make_user()
    assert [s.name for s in read(desk, catalog.list_statuses, actor=requester)] == [
        "new",
        "open",
        "pending",
        "on-hold",
        "solved",
        "closed",
    ]
    assert [p.name for p in read(desk, catalog.list_priorities, actor=requester)] == ["low", "normal", "high", "urgent"]
    assert [t.name for t in read(desk, catalog.list_types, actor=requester)] == [
        "question",
        "incident",
        "problem",
        "task",
    ]
    with pytest.raises(PermissionDenied):
        read(desk, catalog.list_statuses, actor=None)
    with pytest.raises(NotFound):
        read(desk, catalog.read_status, 9999, actor=requester)


def test_validation_names_every_bad_field(desk: Desk) -> None:
    with pytest.raises(ValidationError) as caught:
        act(desk, catalog.create_status, {"name": " ", "category": "limbo", "position": "3"})
    assert set(caught.value.errors) == {"name", "category", "position"}
    with pytest.raises(ValidationError) as caught:
        act(desk, catalog.create_priority, {"name": "x" * 51})
    assert set(caught.value.errors) == {"name", "rank"}
    with pytest.raises(ValidationError) as caught:
        act(desk, catalog.update_type, 1, {"position": 10**9, "colour": "red"})
    assert set(caught.value.errors) == {"position", "colour"}


@pytest.mark.parametrize(
    ("function", "data"),
    [
        (catalog.create_status, {"name": " OPEN ", "category": "open"}),
        (catalog.create_priority, {"name": "Urgent", "rank": 99}),
        (catalog.create_type, {"name": "TASK"}),
    ],
)
def test_names_are_unique_regardless_of_case(desk: Desk, function: Any, data: dict[str, Any]) -> None:
    with pytest.raises(Conflict, match="already exists"):
        act(desk, function, data)


def test_renaming_keeps_names_unique_but_may_change_case(desk: Desk) -> None:
    with pytest.raises(Conflict, match="'pending' already exists"):
        act(desk, catalog.update_status, status_id(desk, "on-hold"), {"name": "Pending"})
    renamed = act(desk, catalog.update_status, status_id(desk, "open"), {"name": " Open "})
    assert renamed.name == "Open"
    event = read(desk, lambda uow: uow.session.scalars(select(Event).where(Event.name == "status.updated")).one())
    assert event.payload["changes"] == {"name": ["open", "Open"]}


# Defaults


def test_a_new_default_status_replaces_the_old_one_in_its_category_only(desk: Desk) -> None:
    waiting = act(desk, catalog.create_status, {"name": "waiting", "category": "pending", "is_default": True})
    assert waiting.position == 70
    assert defaults(desk)["pending"] == ["waiting"]
    assert defaults(desk)["open"] == ["open"]
    act(desk, catalog.update_status, status_id(desk, "on-hold"), {"is_default": True})
    assert defaults(desk)["pending"] == ["on-hold"]
    plain = act(desk, catalog.create_status, {"name": "parked", "category": "pending"})
    assert not plain.is_default


def test_a_default_cannot_be_switched_off_only_replaced(desk: Desk) -> None:
    with pytest.raises(Conflict, match="make another pending status the default"):
        act(desk, catalog.update_status, status_id(desk, "pending"), {"is_default": False})
    with desk.db.reading() as session:
        normal = session.scalar(select(Priority.id).where(Priority.name == "normal"))
        high = session.scalar(select(Priority.id).where(Priority.name == "high"))
    with pytest.raises(Conflict, match="default priority"):
        act(desk, catalog.update_priority, normal, {"is_default": False})
    act(desk, catalog.update_priority, high, {"is_default": True, "rank": 35})
    assert defaults(desk)["priority"] == ["high"]
    assert new_ticket(desk).priority.name == "high"


def test_a_new_default_priority_replaces_the_old_one(desk: Desk) -> None:
    act(desk, catalog.create_priority, {"name": "Whenever", "rank": 1, "is_default": True})
    assert defaults(desk)["priority"] == ["Whenever"]
    assert new_ticket(desk).priority.name == "Whenever"


def test_deleting_a_default_passes_the_default_on(desk: Desk) -> None:
    act(desk, catalog.delete_status, status_id(desk, "pending"))
    assert defaults(desk)["pending"] == ["on-hold"]
    with desk.db.reading() as session:
        normal = session.scalar(select(Priority.id).where(Priority.name == "normal"))
    act(desk, catalog.delete_priority, normal)
    assert defaults(desk)["priority"] == ["low"]


# Deleting


def test_what_tickets_use_cannot_be_deleted(desk: Desk, make_user: Any) -> None:
    make_user(email="rita@example.com")
    new_ticket(desk, priority="high", type="incident")
    new_ticket(desk, priority="high")
    with pytest.raises(Conflict, match="2 tickets use the status 'new'"):
        act(desk, catalog.delete_status, status_id(desk, "new"))
    with desk.db.reading() as session:
        high = session.scalar(select(Priority.id).where(Priority.name == "high"))
        incident = session.scalar(select(TicketType.id).where(TicketType.name == "incident"))
        task = session.scalar(select(TicketType.id).where(TicketType.name == "task"))
    with pytest.raises(Conflict, match="2 tickets use the priority 'high'"):
        act(desk, catalog.delete_priority, high)
    with pytest.raises(Conflict, match="1 ticket uses the type 'incident'"):
        act(desk, catalog.delete_type, incident)
    act(desk, catalog.delete_type, task)
    assert [t.name for t in read(desk, catalog.list_types)] == ["question", "incident", "problem"]
    deleted = read(desk, lambda uow: uow.session.scalars(select(Event).where(Event.name == "type.deleted")).one())
    assert deleted.payload == {"type_id": task, "name": "task"}


def test_every_category_keeps_a_status_and_the_desk_a_priority(desk: Desk) -> None:
    with pytest.raises(Conflict, match="only open status"):
        act(desk, catalog.delete_status, status_id(desk, "open"))
    with pytest.raises(Conflict, match="only solved status"):
        act(desk, catalog.update_status, status_id(desk, "solved"), {"category": "closed"})
    ids = [p.id for p in read(desk, catalog.list_priorities)]
    for priority in ids[:-1]:
        act(desk, catalog.delete_priority, priority)
    with pytest.raises(Conflict, match="only priority"):
        act(desk, catalog.delete_priority, ids[-1])
    assert defaults(desk)["priority"] == ["urgent"]


def test_deleting_what_does_not_exist_is_not_found(desk: Desk) -> None:
    for function in (catalog.delete_status, catalog.delete_priority, catalog.delete_type):
        with pytest.raises(NotFound):
            act(desk, function, 9999)


# Changing a status's category


def test_a_new_category_moves_the_status_tickets_with_it(desk: Desk, make_user: Any) -> None:
    make_user(email="rita@example.com")
    act(desk, catalog.update_status, status_id(desk, "on-hold"), {"is_default": True})
    parked = new_ticket(desk)
    act(desk, tickets.update_ticket, parked.number, {"status": "on-hold"})
    other = new_ticket(desk)
    act(desk, tickets.update_ticket, other.number, {"status": "pending"})
    with desk.db.reading() as session:
        version = session.get(Ticket, parked.id).version

    moved = act(desk, catalog.update_status, status_id(desk, "on-hold"), {"category": "solved", "position": 55})
    assert (moved.category, moved.is_default, moved.position) == ("solved", False, 55)
    with desk.db.reading() as session:
        ticket = session.get(Ticket, parked.id)
        assert ticket.status_category == "solved"
        assert ticket.solved_at is not None
        assert ticket.version == version + 1
        assert session.get(Ticket, other.id).status_category == "pending"
        event = session.scalars(select(Event).where(Event.name == "status.updated")).all()[-1]
    assert defaults(desk)["pending"] == ["pending"], "the old category got a new default"
    assert defaults(desk)["solved"] == ["solved"]
    assert event.payload["tickets_moved"] == 1
    assert event.payload["changes"]["category"] == ["pending", "solved"]

    act(desk, catalog.update_status, status_id(desk, "on-hold"), {"category": "open", "is_default": True})
    assert defaults(desk)["open"] == ["on-hold"]
    with desk.db.reading() as session:
        ticket = session.get(Ticket, parked.id)
        assert (ticket.status_category, ticket.solved_at, ticket.closed_at) == ("open", None, None)


def test_a_status_moved_to_closed_closes_its_tickets(desk: Desk, make_user: Any) -> None:
    make_user(email="rita@example.com")
    act(desk, catalog.create_status, {"name": "archived", "category": "solved"})
    ticket = new_ticket(desk)
    act(desk, tickets.update_ticket, ticket.number, {"status": "archived"})
    act(desk, catalog.update_status, status_id(desk, "archived"), {"category": "closed"})
    with desk.db.reading() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored.is_closed
        assert stored.closed_at is not None
        assert stored.solved_at is not None
    with pytest.raises(Conflict, match="closed"):
        act(desk, tickets.update_ticket, ticket.number, {"subject": "Too late"})


# Tags


@pytest.fixture
def tagged(desk: Desk, make_user: Any) -> dict[str, Any]:
    """Support sees two printer tickets; Network sees one printer and one vpn ticket."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Network"})
    users = {
        "support": make_user(role="agent", groups=["Support"]),
        "network": make_user(role="agent", groups=["Network"]),
        "rita": make_user(email="rita@example.com"),
        "admin": make_user(role="admin"),
    }
    new_ticket(desk, group="Support", tags=["printer", "floor-3"])
    new_ticket(desk, group="Support", tags=["printer"])
    new_ticket(desk, group="Network", tags=["printer", "vpn"])
    new_ticket(desk, group="Network", tags=["vpn_down"])
    return users


def counts(desk: Desk, actor: Any, **kwargs: Any) -> list[tuple[str, int]]:
    return [(t.name, t.count) for t in read(desk, catalog.tags_with_counts, actor=actor, **kwargs)]


def test_tag_counts_cover_only_tickets_the_actor_sees(desk: Desk, tagged: dict[str, Any]) -> None:
    assert counts(desk, tagged["admin"]) == [("printer", 3), ("floor-3", 1), ("vpn", 1), ("vpn_down", 1)]
    assert counts(desk, tagged["support"]) == [("printer", 2), ("floor-3", 1)]
    assert counts(desk, tagged["network"]) == [("printer", 1), ("vpn", 1), ("vpn_down", 1)]


def test_tag_counts_by_prefix_and_limit(desk: Desk, tagged: dict[str, Any]) -> None:
    assert counts(desk, tagged["admin"], prefix=" VPN") == [("vpn", 1), ("vpn_down", 1)]
    assert counts(desk, tagged["admin"], prefix="vpn_") == [("vpn_down", 1)], "_ is not a wildcard"
    assert counts(desk, tagged["admin"], prefix="%") == []
    assert counts(desk, tagged["admin"], limit=1) == [("printer", 3)]
    with pytest.raises(ValidationError) as caught:
        counts(desk, tagged["admin"], limit=0)
    assert set(caught.value.errors) == {"limit"}


def test_tag_counts_are_for_staff(desk: Desk, tagged: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        counts(desk, tagged["rita"])
    with pytest.raises(PermissionDenied):
        counts(desk, None)
