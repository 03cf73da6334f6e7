"""Licence seats, relations and impact traversal (with cycles), tickets linked to configuration items, warnings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from frontdesk_assets import alerts, cmdb, inventory, licences
from sqlalchemy import select

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import Event, User
from frontdesk.services import tickets


def test_licence_seats_are_never_over_allocated(as_system: Any, make_user: Any) -> None:
    make_user(email="ann@example.com")
    make_user(email="bob@example.com")
    with as_system() as uow:
        tag = inventory.create_asset(uow, "licence", {"name": "Office", "seats_total": "2"}).asset_tag
        laptop = inventory.create_asset(uow, "laptop", {"name": "A"}).asset_tag
        licences.assign_seat(uow, tag, {"person": "ann@example.com"})
        licences.assign_seat(uow, tag, {"device": laptop})
    with pytest.raises(Conflict, match="all 2 seats of LIC-000001 are in use"), as_system() as uow:
        licences.assign_seat(uow, tag, {"person": "bob@example.com"})
    with pytest.raises(ValidationError, match="2 seats are in use"), as_system() as uow:
        inventory.update_asset(uow, tag, {"seats_total": 1})
    with as_system() as uow:
        seat = licences.seats_of(uow, tag)[0]
        licences.release_seat(uow, tag, seat.id)
        licences.assign_seat(uow, tag, {"person": "bob@example.com"})
        assert {s.user.email if s.user else s.device.asset_tag for s in licences.seats_of(uow, tag)} == {
            "bob@example.com",
            laptop,
        }
    with pytest.raises(Conflict, match="already has a seat"), as_system() as uow:
        inventory.update_asset(uow, tag, {"seats_total": 5})
        licences.assign_seat(uow, tag, {"person": "bob@example.com"})
    with pytest.raises(ValidationError, match="needs its number of seats"), as_system() as uow:
        inventory.create_asset(uow, "licence", {"name": "Seatless"})
    with pytest.raises(ValidationError, match="only licences have seats"), as_system() as uow:
        inventory.create_asset(uow, "laptop", {"name": "B", "seats_total": 3})
    with pytest.raises(ValidationError, match="not a licence"), as_system() as uow:
        licences.assign_seat(uow, laptop, {"person": "ann@example.com"})


def test_a_seat_goes_to_a_person_by_e_mail_in_any_case(as_system: Any, make_user: Any) -> None:
    ann = make_user(email="ann@example.com")
    with as_system() as uow:
        tag = inventory.create_asset(uow, "licence", {"name": "Office", "seats_total": "2"}).asset_tag
        seat = licences.assign_seat(uow, tag, {"person": "Ann@Example.com"})
        assert (seat.user_id, seat.user.email) == (ann.id, "ann@example.com")
    with pytest.raises(ValidationError, match="no user with the e-mail address 'nobody@"), as_system() as uow:
        licences.assign_seat(uow, tag, {"person": "nobody@example.com"})
    gone = make_user(email="gone@example.com")
    with as_system() as uow:
        uow.session.get(User, gone.id).active = False
    with pytest.raises(ValidationError, match="is deactivated"), as_system() as uow:
        licences.assign_seat(uow, tag, {"person": "gone@example.com"})


def _items(as_system: Any, names: list[str]) -> dict[str, str]:
    with as_system() as uow:
        return {name: inventory.create_asset(uow, "service", {"name": name}).asset_tag for name in names}


def _relate(as_system: Any, tags: dict[str, str], *triples: tuple[str, str, str]) -> None:
    with as_system() as uow:
        for source, kind, target in triples:
            cmdb.add_relation(uow, {"source": tags[source], "kind": kind, "target": tags[target]})


def test_impact_follows_each_relation_kind_its_way(as_system: Any) -> None:
    tags = _items(as_system, ["mail", "server", "rack", "disk", "switch", "crm", "vpn"])
    _relate(
        as_system,
        tags,
        ("mail", "runs_on", "server"),
        ("server", "part_of", "rack"),  # a failing server breaks its rack (the whole relies on its parts)
        ("disk", "part_of", "server"),
        ("server", "connected_to", "switch"),
        ("crm", "depends_on", "mail"),
    )
    with as_system() as uow:
        affected = cmdb.impact(uow, tags["disk"], "impact", depth=5)
        assert {(n.asset.name, n.depth) for n in affected.nodes} == {
            ("server", 1),
            ("mail", 2),
            ("rack", 2),
            ("switch", 2),
            ("crm", 3),
        }
        shallow = cmdb.impact(uow, tags["disk"], "impact", depth=2)
        assert "crm" not in {n.asset.name for n in shallow.nodes}
        needs = cmdb.impact(uow, tags["crm"], "dependencies", depth=5)
        assert [(n.asset.name, n.depth) for n in needs.nodes][:2] == [("mail", 1), ("server", 2)]
        assert {n.asset.name for n in needs.nodes} == {"mail", "server", "disk", "switch"}
        assert cmdb.impact_count(uow, inventory.get_asset(uow, tags["vpn"])) == 0


def test_cycles_end_the_walk(as_system: Any) -> None:
    tags = _items(as_system, ["a", "b", "c"])
    _relate(as_system, tags, ("a", "depends_on", "b"), ("b", "depends_on", "c"), ("c", "depends_on", "a"))
    with as_system() as uow:
        result = cmdb.impact(uow, tags["a"], "impact", depth=10)
    assert [(n.asset.name, n.depth) for n in result.nodes] == [("c", 1), ("b", 2)]
    assert len(result.edges) == 3  # the edge back to the root was seen, not walked


def test_relations_refuse_duplicates_self_loops_and_unknown_kinds(as_system: Any, desk: Desk, make_user: Any) -> None:
    tags = _items(as_system, ["a", "b"])
    _relate(as_system, tags, ("a", "depends_on", "b"))
    with pytest.raises(Conflict), as_system() as uow:
        cmdb.add_relation(uow, {"source": tags["a"], "kind": "depends_on", "target": tags["b"]})
    with pytest.raises(ValidationError), as_system() as uow:
        cmdb.add_relation(uow, {"source": tags["a"], "kind": "depends_on", "target": tags["a"]})
    with pytest.raises(ValidationError), as_system() as uow:
        cmdb.add_relation(uow, {"source": tags["a"], "kind": "likes", "target": tags["b"]})
    with pytest.raises(PermissionDenied), desk.action(make_user(role="agent"), source="test") as uow:
        cmdb.add_relation(uow, {"source": tags["b"], "kind": "depends_on", "target": tags["a"]})
    with as_system() as uow:
        outgoing, incoming = cmdb.relations_of(uow, inventory.get_asset(uow, tags["b"]))
        assert (outgoing, [r.source.name for r in incoming]) == ([], ["a"])
        cmdb.remove_relation(uow, incoming[0].id)
        assert cmdb.relations_of(uow, inventory.get_asset(uow, tags["b"])) == ([], [])


def test_tickets_link_to_items_both_ways(as_system: Any, desk: Desk, make_user: Any) -> None:
    agent, requester = make_user(role="agent", all_groups=True), make_user(email="rita@example.com")
    tags = _items(as_system, ["Email", "VPN"])
    with as_system() as uow:
        outage = tickets.create_ticket(uow, {"subject": "Mail down", "requester": "rita@example.com"}).number
        old = tickets.create_ticket(uow, {"subject": "Mail slow", "requester": "rita@example.com"}).number
        tickets.update_ticket(uow, old, {"status": "solved"})
    with desk.action(agent, source="test") as uow:
        cmdb.link_ticket(uow, tags["Email"], outage)
        cmdb.link_ticket(uow, tags["VPN"], outage)
        cmdb.link_ticket(uow, tags["Email"], old)
    with pytest.raises(Conflict), desk.action(agent, source="test") as uow:
        cmdb.link_ticket(uow, tags["Email"], outage)
    with desk.reading(agent) as uow:
        open_, past = cmdb.tickets_of(uow, inventory.get_asset(uow, tags["Email"]))
        assert ([t.number for t in open_], [t.number for t in past]) == ([outage], [old])
        ticket = tickets.get_ticket(uow, outage)
        assert [a.name for a in cmdb.items_of_ticket(uow, ticket)] == ["Email", "VPN"]
    with pytest.raises((PermissionDenied, NotFound)), desk.action(requester, source="test") as uow:
        cmdb.link_ticket(uow, tags["VPN"], old)
    with desk.action(agent, source="test") as uow:
        cmdb.unlink_ticket(uow, tags["VPN"], outage)
        assert [a.name for a in cmdb.items_of_ticket(uow, tickets.get_ticket(uow, outage))] == ["Email"]


def test_warnings_are_emitted_once_per_loan_and_warranty(as_system: Any, make_user: Any, db: Any) -> None:
    make_user(email="ann@example.com")
    today = date.today()
    with as_system() as uow:
        lent = inventory.create_asset(
            uow, "laptop", {"name": "Loaner", "warranty_end": str(today + timedelta(days=60))}
        )
        inventory.check_out(uow, lent.asset_tag, {"person": "ann@example.com", "expected_return": str(today)})
        expiring = inventory.create_asset(
            uow, "monitor", {"name": "Old", "warranty_end": str(today + timedelta(days=3))}
        )
        inventory.create_asset(uow, "monitor", {"name": "Ended", "warranty_end": str(today - timedelta(days=3))})
    with as_system() as uow:
        assert alerts.emit_warnings(uow, today) == (0, 1)
    later = today + timedelta(days=1)
    with as_system() as uow:
        assert alerts.emit_warnings(uow, later) == (1, 0)
        assert alerts.emit_warnings(uow, later) == (0, 0)
        assert alerts.warnings_for(inventory.get_asset(uow, lent.asset_tag), later, 30) == [
            f"Loan overdue since {today.isoformat()}"
        ]
    events = db.scalars(select(Event).where(Event.name.like("assets.%")).order_by(Event.id)).all()
    assert [(e.name, e.payload["asset_tag"]) for e in events] == [
        ("assets.warranty_expiring", expiring.asset_tag),
        ("assets.loan_overdue", lent.asset_tag),
    ]
    assert events[1].payload["assigned_to"] == "ann@example.com"
    db.rollback()


class WarningConsumer:
    """A plugin reacting to the asset warnings (as automation or a notifier would)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def frontdesk_assets_loan_overdue(self, event: Any) -> None:
        self.seen.append(("loan_overdue", event.payload["asset_tag"]))

    @hookimpl
    def frontdesk_assets_warranty_expiring(self, event: Any, desk: Any) -> None:
        self.seen.append(("warranty_expiring", event.payload["warranty_end"]))


def test_hook_frontdesk_assets_events_reach_other_plugins_after_commit(
    as_system: Any, make_user: Any, register_plugin: Any, desk: Desk
) -> None:
    consumer = register_plugin(WarningConsumer(), "consumer")
    make_user(email="ann@example.com")
    yesterday = date.today() - timedelta(days=1)
    with as_system() as uow:
        tag = inventory.create_asset(uow, "laptop", {"name": "A", "warranty_end": str(date.today())}).asset_tag
        inventory.check_out(uow, tag, {"person": "ann@example.com", "expected_return": str(date.today())})
    with as_system() as uow:
        alerts.emit_warnings(uow, date.today() + timedelta(days=1))  # the return date has passed by then
    desk.dispatcher.dispatch_pending()
    assert sorted(consumer.seen) == [("loan_overdue", tag)]
    with as_system() as uow:
        alerts.emit_warnings(uow, yesterday)
    desk.dispatcher.dispatch_pending()
    assert ("warranty_expiring", date.today().isoformat()) in consumer.seen


def test_the_warning_job_runs_periodically(desk: Desk, as_system: Any, db: Any) -> None:
    assert desk.jobs.job("assets.warnings").schedule is not None
    with as_system() as uow:
        inventory.create_asset(uow, "monitor", {"name": "Old", "warranty_end": str(date.today() + timedelta(days=2))})
    desk.jobs.run_periodic("assets.warnings")
    names = db.scalars(select(Event.name).where(Event.name.like("assets.%"))).all()
    db.rollback()
    assert names == ["assets.warranty_expiring"]
