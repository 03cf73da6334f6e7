"""The ticket service layer: creation, workflow, comments, concurrency, merge, links, history, listing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy import update as update_statement

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import Event, HistoryEntry, Tag, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.queries import TicketFilter, list_tickets, ticket_details
from frontdesk.schemas.tickets import CommentSchema
from frontdesk.services import comments, links, people, tickets


@pytest.fixture
def support(desk: Desk, make_user: Any) -> dict[str, Any]:
    """A group with one agent, one outside agent and one requester."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Network"})
    return {
        "agent": make_user(email="agent@example.com", role="agent", groups=["Support"]),
        "outsider": make_user(email="net@example.com", role="agent", groups=["Network"]),
        "requester": make_user(email="rita@example.com", name="Rita"),
    }


def create(desk: Desk, actor: Any = SYSTEM, **data: Any) -> Ticket:
    values = {"subject": "Printer jammed", "body": "Page 3 is stuck.", "requester": "rita@example.com"} | data
    with desk.action(actor, source="test") as uow:
        return tickets.create_ticket(uow, values)


def update(desk: Desk, actor: Any, number: int, **data: Any) -> Ticket:
    with desk.action(actor, source="test") as uow:
        return tickets.update_ticket(uow, number, data)


def reply(desk: Desk, actor: Any, number: int, body: str = "Hello", public: bool = True) -> Any:
    with desk.action(actor, source="test") as uow:
        return comments.add_comment(uow, number, {"body": body, "public": public})


def details(desk: Desk, number: int, actor: Any = SYSTEM) -> dict[str, Any]:
    with desk.reading(actor) as uow:
        return ticket_details(uow, number)


def test_create_sets_defaults_history_and_event(desk: Desk, support: dict[str, Any]) -> None:
    ticket = create(desk, tags=["Printer", "  Floor 3 "], group="support", priority="High", type="incident")
    shown = details(desk, ticket.number)
    assert shown["status"] == "new"
    assert shown["status_category"] == "new"
    assert shown["priority"] == "high"
    assert shown["type"] == "incident"
    assert shown["group"] == "Support"
    assert shown["tags"] == ["floor-3", "printer"]
    assert shown["requester"]["email"] == "rita@example.com"
    assert shown["description"] == "<p>Page 3 is stuck.</p>"
    assert shown["channel"] == "test"
    assert shown["version"] == 1
    assert [h["field"] for h in shown["history"]] == ["created"]
    with desk.db.reading() as session:
        assert session.scalars(select(Event.name).where(Event.ticket_id == ticket.id)).all() == ["ticket.created"]


def test_staff_filing_for_an_unknown_requester_creates_them(desk: Desk) -> None:
    ticket = create(desk, requester="New.Person@Example.com", requester_name="New Person")
    with desk.db.reading() as session:
        user = session.get(User, ticket.requester_id)
        assert (user.email, user.name, user.role) == ("new.person@example.com", "New Person", "requester")


def test_requesters_file_their_own_tickets_only(desk: Desk, support: dict[str, Any]) -> None:
    rita = support["requester"]
    ticket = create(desk, rita, requester=None)
    assert ticket.requester_id == rita.id
    with pytest.raises(ValidationError) as caught:
        create(desk, rita, requester="someone@example.com", priority="urgent")
    assert set(caught.value.errors) == {"requester", "priority"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 251}, "subject"),
        ({"priority": "apocalyptic"}, "priority"),
        ({"type": "rant"}, "type"),
        ({"group": "Nowhere"}, "group"),
        ({"assignee": "ghost@example.com"}, "assignee"),
        ({"tags": ["no spaces? fine", "bad<tag>"]}, "tags"),
        ({"requester": "not-an-email"}, "requester"),
        ({"subject": "nul\x00byte"}, "subject"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    desk: Desk, support: dict[str, Any], data: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        create(desk, **data)
    assert field in caught.value.errors
    with desk.db.reading() as session:
        assert session.scalar(select(Ticket.id)) is None
        assert session.scalar(select(Event.id)) is None


def test_assignee_must_belong_to_the_group(desk: Desk, support: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="not a member of group 'Support'"):
        create(desk, group="Support", assignee="net@example.com")
    with pytest.raises(ValidationError, match="not an active agent"):
        create(desk, group="Support", assignee="rita@example.com")
    ticket = create(desk, group="Support", assignee="agent@example.com")
    assert ticket.assignee_id == support["agent"].id


def test_default_workflow(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    ticket = create(desk, group="Support")
    reply(desk, agent, ticket.number, "Looking into it")
    shown = details(desk, ticket.number)
    assert shown["status"] == "open"
    assert shown["first_response_at"] is not None
    update(desk, agent, ticket.number, status="pending")
    reply(desk, support["requester"], ticket.number, "Still broken")
    assert details(desk, ticket.number)["status"] == "open", "a requester reply ends pending"
    update(desk, agent, ticket.number, status="solved")
    assert details(desk, ticket.number)["solved_at"] is not None
    reply(desk, support["requester"], ticket.number, "It is back")
    reopened = details(desk, ticket.number)
    assert (reopened["status"], reopened["solved_at"]) == ("open", None)
    with pytest.raises(ValidationError, match="cannot go back to 'new'"):
        update(desk, agent, ticket.number, status="new")
    update(desk, agent, ticket.number, status="closed")
    closed = details(desk, ticket.number)
    assert closed["closed_at"] is not None
    assert closed["solved_at"] is not None
    with pytest.raises(Conflict, match="is closed"):
        reply(desk, support["requester"], ticket.number, "Hello?")
    with pytest.raises(Conflict, match="is closed"):
        update(desk, agent, ticket.number, status="open")


def test_internal_notes_are_for_agents(desk: Desk, support: dict[str, Any]) -> None:
    ticket = create(desk, group="Support")
    reply(desk, support["agent"], ticket.number, "Customer is VIP", public=False)
    with pytest.raises(PermissionDenied, match="internal notes"):
        reply(desk, support["requester"], ticket.number, "sneaky", public=False)
    assert details(desk, ticket.number)["status"] == "new", "an internal note is not a response"
    as_requester = details(desk, ticket.number, support["requester"])
    assert as_requester["comments"] == []
    assert as_requester["history"] == []
    assert [c["public"] for c in details(desk, ticket.number, support["agent"])["comments"]] == [False]


def test_requesters_may_only_solve_or_reopen(desk: Desk, support: dict[str, Any]) -> None:
    rita = support["requester"]
    ticket = create(desk, group="Support")
    for field, value in (("priority", "urgent"), ("group", "Network"), ("assignee", "agent@example.com")):
        with pytest.raises(PermissionDenied, match=f"only agents can change {field}"):
            update(desk, rita, ticket.number, **{field: value})
    with pytest.raises(PermissionDenied, match="solved or reopen"):
        update(desk, rita, ticket.number, status="pending")
    update(desk, rita, ticket.number, status="solved")
    update(desk, rita, ticket.number, status="open")
    assert details(desk, ticket.number)["status"] == "open"


def test_comment_bodies_are_sanitized(desk: Desk, support: dict[str, Any]) -> None:
    ticket = create(desk, body="<b>bold</b> & <script>alert(1)</script>")
    assert (
        details(desk, ticket.number)["description"]
        == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    with desk.action(support["agent"], source="test") as uow:
        comments.add_comment(
            uow,
            ticket.number,
            {
                "body": '<p onclick="x()">Hi <a href="javascript:alert(1)">there</a><img src=x onerror=alert(1)></p>',
                "body_format": "html",
            },
        )
    body = details(desk, ticket.number)["comments"][0]["body"]
    assert "onclick" not in body
    assert "javascript:" not in body
    assert "onerror" not in body
    assert "Hi" in body


def test_stale_versions_are_refused(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    ticket = create(desk, group="Support")
    update(desk, agent, ticket.number, priority="high", version=1)
    with pytest.raises(Conflict, match="changed by someone else"):
        update(desk, agent, ticket.number, priority="low", version=1)
    assert details(desk, ticket.number)["priority"] == "high"
    assert details(desk, ticket.number)["version"] == 2


def test_two_sessions_editing_the_same_ticket_lose_nothing(desk: Desk, support: dict[str, Any]) -> None:
    """Two agents load version 1; the second write is refused instead of overwriting the first."""
    if desk.db.backend == "sqlite":
        pytest.skip("SQLite writers take the lock at BEGIN, so they never interleave; the version check covers it")
    agent = support["agent"]
    ticket = create(desk, group="Support")
    first = desk.db.sessionmaker()
    second = desk.db.sessionmaker()
    try:
        one = first.get(Ticket, ticket.id)
        two = second.get(Ticket, ticket.id)
        one.subject = "First agent's subject"
        first.commit()
        two.subject = "Second agent's subject"
        with pytest.raises(Exception, match=r"(?i)stale|expected to update"):
            second.commit()
    finally:
        first.close()
        second.close()
    assert details(desk, ticket.number, agent)["subject"] == "First agent's subject"


def test_no_op_updates_write_nothing(desk: Desk, support: dict[str, Any]) -> None:
    ticket = create(desk, group="Support", priority="high")
    update(desk, support["agent"], ticket.number, priority="HIGH", group="support")
    shown = details(desk, ticket.number)
    assert shown["version"] == 1
    assert len(shown["history"]) == 1


def test_history_records_every_change_with_actor_and_source(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    ticket = create(desk, group="Support", tags=["printer"])
    update(desk, agent, ticket.number, assignee="agent@example.com", add_tags=["urgent"], remove_tags=["PRINTER"])
    update(desk, agent, ticket.number, group="Network", assignee=None, subject="Network printer jammed")
    rows = [(h["field"], h["old"], h["new"], h["actor"], h["source"]) for h in details(desk, ticket.number)["history"]]
    assert rows[1:] == [
        ("assignee", None, "agent@example.com", "agent@example.com", "test"),
        ("tags", ["printer"], ["urgent"], "agent@example.com", "test"),
        ("subject", "Printer jammed", "Network printer jammed", "agent@example.com", "test"),
        ("group", "Support", "Network", "agent@example.com", "test"),
        ("assignee", "agent@example.com", None, "agent@example.com", "test"),
    ]
    with desk.db.reading() as session:
        events = session.scalars(select(Event.name).where(Event.ticket_id == ticket.id).order_by(Event.id)).all()
        assert events == [
            "ticket.created",
            "ticket.updated",
            "ticket.assigned",
            "ticket.updated",
            "ticket.assigned",
        ]
        assert session.scalars(select(HistoryEntry.event_id).where(HistoryEntry.ticket_id == ticket.id)).all()[1]


def test_ccs(desk: Desk, support: dict[str, Any]) -> None:
    ticket = create(desk, ccs=["boss@example.com", "rita@example.com"])
    assert details(desk, ticket.number)["ccs"] == ["boss@example.com"]
    update(desk, support["agent"], ticket.number, add_ccs=["peer@example.com"], remove_ccs=["BOSS@example.com"])
    assert details(desk, ticket.number)["ccs"] == ["peer@example.com"]


def test_merge_moves_comments_and_links_the_duplicate(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    keep = create(desk, group="Support", subject="Printer broken")
    dup = create(desk, group="Support", subject="Printer still broken", requester="bob@example.com", body="Same here")
    reply(desk, agent, dup.number, "Which printer?")
    with desk.action(agent, source="test") as uow:
        links.merge_tickets(uow, dup.number, keep.number)
    kept, merged = details(desk, keep.number), details(desk, dup.number)
    bodies = [c["body"] for c in kept["comments"]]
    assert "<p>Which printer?</p>" in bodies
    assert "<p>Merged from #2: Printer still broken</p><p>Same here</p>" in bodies
    assert kept["ccs"] == ["bob@example.com"]
    assert {"kind": "merged_from", "ticket": dup.number} in kept["links"]
    assert (merged["status"], merged["merged_into"]) == ("closed", keep.number)
    assert [c["body"] for c in merged["comments"]] == ["<p>Merged into #1.</p>"]
    with pytest.raises(Conflict, match="is closed"), desk.action(agent, source="test") as uow:
        links.merge_tickets(uow, dup.number, keep.number)
    with pytest.raises(ValidationError), desk.action(agent, source="test") as uow:
        links.merge_tickets(uow, keep.number, keep.number)


def test_links(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    parent, child = create(desk, group="Support"), create(desk, group="Support")
    with desk.action(agent, source="test") as uow:
        links.link_tickets(uow, parent.number, child.number, "parent")
    assert details(desk, parent.number)["links"] == [{"kind": "parent_of", "ticket": child.number}]
    assert details(desk, child.number)["links"] == [{"kind": "child_of", "ticket": parent.number}]
    with pytest.raises(Conflict, match="already linked"), desk.action(agent, source="test") as uow:
        links.link_tickets(uow, child.number, parent.number, "parent")
    with pytest.raises(ValidationError), desk.action(agent, source="test") as uow:
        links.link_tickets(uow, parent.number, child.number, "merged")
    with pytest.raises(PermissionDenied), desk.action(support["requester"], source="test") as uow:
        links.link_tickets(uow, parent.number, child.number, "related")
    with desk.action(agent, source="test") as uow:
        assert links.unlink_tickets(uow, child.number, parent.number) == 1
    assert details(desk, parent.number)["links"] == []


def test_unknown_and_foreign_tickets_look_the_same(desk: Desk, support: dict[str, Any], make_user: Any) -> None:
    ticket = create(desk, group="Support")
    stranger = make_user(email="stranger@example.com")
    with pytest.raises(NotFound, match=f"ticket #{ticket.number} not found"):
        details(desk, ticket.number, stranger)
    with pytest.raises(NotFound, match="ticket #999 not found"):
        details(desk, 999, stranger)
    with pytest.raises(NotFound):
        reply(desk, stranger, ticket.number)


def test_list_pages_with_a_cursor_stable_under_inserts(desk: Desk, support: dict[str, Any]) -> None:
    numbers = [create(desk, group="Support", subject=f"Ticket {i}").number for i in range(7)]
    seen: list[int] = []
    with desk.reading(SYSTEM) as uow:
        page = list_tickets(uow, TicketFilter(group="support"), limit=3)
    seen += [t.number for t in page.items]
    create(desk, group="Support", subject="Arrives while paging")
    while page.next_cursor:
        with desk.reading(SYSTEM) as uow:
            page = list_tickets(uow, TicketFilter(group="Support"), limit=3, cursor=page.next_cursor)
        seen += [t.number for t in page.items]
    assert seen == sorted(numbers, reverse=True)


def test_list_filters(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    a = create(desk, group="Support", tags=["vpn"], assignee="agent@example.com")
    b = create(desk, group="Network", tags=["vpn", "wifi"], requester="bob@example.com")
    c = create(desk, group="Support")
    update(desk, agent, c.number, status="pending")

    def numbers(actor: Any = SYSTEM, **filters: Any) -> list[int]:
        with desk.reading(actor) as uow:
            return [t.number for t in list_tickets(uow, TicketFilter(**filters)).items]

    assert numbers(tag=["vpn"]) == [b.number, a.number]
    assert numbers(tag=["vpn", "wifi"]) == [b.number]
    assert numbers(assignee="none") == [c.number, b.number]
    assert numbers(agent, assignee="me") == [a.number]
    assert numbers(status=["pending"]) == [c.number]
    assert numbers(category=["new"], group="Support") == [a.number]
    assert numbers(requester="bob@example.com") == [b.number]
    assert numbers(support["outsider"]) == [b.number]
    with pytest.raises(ValidationError, match="cursor"), desk.reading(SYSTEM) as uow:
        list_tickets(uow, TicketFilter(), cursor="garbage")


def test_listing_a_page_takes_a_fixed_number_of_queries(desk: Desk, support: dict[str, Any]) -> None:
    for i in range(30):
        create(desk, group="Support", tags=["a", f"t{i % 3}"], ccs=[f"cc{i}@example.com"], assignee="agent@example.com")
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", count)
    try:
        with desk.reading(support["agent"]) as uow:
            page = list_tickets(uow, TicketFilter(group="Support"), limit=25)
            rows = [
                (t.requester.email, t.assignee.email, t.group.name, t.status.name, [x.name for x in t.tags])
                for t in page.items
            ]
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", count)
    assert len(rows) == 25
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, selects


def test_a_requester_created_concurrently_is_reused(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another action created the same new requester between our look-up and our insert."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_user(uow, {"email": "race@example.com", "name": "Winner"})
    real = tickets.user_by_email
    calls = iter([None])
    monkeypatch.setattr(tickets, "user_by_email", lambda uow, address: next(calls, None) or real(uow, address))
    ticket = create(desk, requester="race@example.com")
    with desk.db.reading() as session:
        assert session.get(User, ticket.requester_id).name == "Winner"
        assert session.query(User).filter_by(email="race@example.com").count() == 1


def flushes(session: Any) -> list[int]:
    """A list that grows by one each time ``session`` flushes."""
    seen: list[int] = []
    event.listen(session, "before_flush", lambda *_: seen.append(1))
    return seen


def test_a_new_ticket_is_written_without_a_flush_and_usable_at_once(desk: Desk, support: dict[str, Any]) -> None:
    with desk.action(support["agent"], source="test") as uow:
        flushed = flushes(uow.session)
        ticket = tickets.create_ticket(
            uow,
            {
                "subject": "Printer jammed",
                "body": "Page 3 is stuck.",
                "requester": "rita@example.com",
                "group": "Support",
                "tags": ["printer", "floor-3"],
                "ccs": ["net@example.com"],
            },
        )
        assert flushed == []
        assert not uow.session.new
        assert not uow.session.dirty
        assert (ticket.version, ticket.requester.email, ticket.group.name) == (1, "rita@example.com", "Support")
        assert ([tag.name for tag in ticket.tags], [user.email for user in ticket.ccs]) == (
            ["floor-3", "printer"],
            ["net@example.com"],
        )
        changed = tickets.update_ticket(uow, ticket.number, {"status": "open"})
        assert changed.version == 2
    shown = details(desk, ticket.number)
    assert (shown["status"], shown["group"], shown["version"]) == ("open", "Support", 2)
    assert (shown["tags"], shown["ccs"]) == (["floor-3", "printer"], ["net@example.com"])
    assert shown["requester"]["email"] == "rita@example.com"
    assert (shown["assignee"], shown["type"], shown["merged_into"], shown["solved_at"]) == (None, None, None, None)


def test_rows_a_hook_adds_to_a_new_ticket_are_written_with_it(
    desk: Desk, support: dict[str, Any], register_plugin: Any
) -> None:
    class Labeller:
        @hookimpl
        def frontdesk_ticket_before_create(self, ticket: Ticket, uow: Any) -> None:
            tag = Tag(name="labelled")
            uow.session.add(tag)
            ticket.tags.append(tag)

    register_plugin(Labeller(), "labeller")
    ticket = create(desk, tags=["printer"])
    assert details(desk, ticket.number)["tags"] == ["labelled", "printer"]


def test_a_reply_is_written_without_a_flush_and_later_changes_build_on_it(desk: Desk, support: dict[str, Any]) -> None:
    """Comment and ticket change are written when ``add_comment`` returns; the action goes on from there."""
    agent = support["agent"]
    ticket = create(desk, group="Support")
    with desk.action(agent, source="test") as uow:
        flushed = flushes(uow.session)
        comment = comments.add_comment(uow, ticket.number, {"body": "Looking into it"})
        assert flushed == []
        assert not uow.session.dirty
        shown_inside = CommentSchema().dump(comment)
        changed = tickets.update_ticket(uow, ticket.number, {"priority": "high"})  # a relationship: flushed
        assert changed.version == 3
    shown = details(desk, ticket.number)
    assert shown["comments"] == [shown_inside]
    assert shown_inside["author"]["email"] == "agent@example.com"
    assert shown_inside["attachments"] == []
    assert (shown["status"], shown["priority"], shown["version"]) == ("open", "high", 3)
    assert shown["first_response_at"] is not None
    assert [h["field"] for h in shown["history"]] == ["created", "status", "priority"]


def test_a_status_change_is_written_without_a_flush(desk: Desk, support: dict[str, Any]) -> None:
    agent = support["agent"]
    ticket = create(desk, group="Support")
    with desk.action(agent, source="test") as uow:
        flushed = flushes(uow.session)
        changed = tickets.update_ticket(uow, ticket.number, {"status": "pending"})
        assert flushed == []
        assert not uow.session.dirty
        assert (changed.status.name, changed.status_category, changed.version) == ("pending", "pending", 2)
        tickets.update_ticket(uow, ticket.number, {"status": "solved", "tags": ["done"]})  # a collection: flushed
        assert flushed == [1]
    shown = details(desk, ticket.number)
    assert (shown["status"], shown["tags"], shown["version"]) == ("solved", ["done"], 3)
    assert shown["solved_at"] is not None


@pytest.mark.parametrize(
    "change",
    [
        lambda uow, number: comments.add_comment(uow, number, {"body": "Looking into it"}),  # a plain UPDATE
        lambda uow, number: tickets.update_ticket(uow, number, {"tags": ["vpn"]}),  # the flush
    ],
    ids=["reply", "tags"],
)
def test_a_change_to_a_ticket_changed_meanwhile_is_refused(
    desk: Desk, support: dict[str, Any], change: Callable[[Any, int], Any]
) -> None:
    ticket = create(desk, group="Support")
    tickets_table = Ticket.__table__
    with pytest.raises(Conflict, match="changed by someone else"), desk.action(support["agent"], source="test") as uow:
        held = tickets.get_ticket(uow, ticket.number)
        assert held.version == 1
        uow.session.connection().execute(  # another writer's change
            update_statement(tickets_table).where(tickets_table.c.id == ticket.id).values(version=2, subject="Changed")
        )
        change(uow, ticket.number)
    shown = details(desk, ticket.number)
    assert (shown["subject"], shown["version"], shown["tags"], shown["comments"]) == ("Printer jammed", 1, [], [])


# Services write by plain statements inside the unit of work's savepoints, and leave it to the
# flush inside one opened on the session directly: a rollback must forget what either way wrote.
SAVEPOINTS = pytest.mark.parametrize(
    ("opened", "direct"),
    [(lambda uow: uow.savepoint(), True), (lambda uow: uow.session.begin_nested(), False)],
    ids=["unit-of-work", "session"],
)


@SAVEPOINTS
def test_a_reply_rolled_back_with_its_savepoint_leaves_the_ticket_as_stored(
    desk: Desk, support: dict[str, Any], opened: Callable[[Any], Any], direct: bool
) -> None:
    """Mail import and automation run steps in savepoints; a failed step must not leave stale objects."""
    ticket = create(desk, group="Support")
    with desk.action(support["agent"], source="test") as uow:
        held = tickets.get_ticket(uow, ticket.number)  # the same object all along
        with contextlib.suppress(RuntimeError), opened(uow):
            flushed = flushes(uow.session)
            lost = comments.add_comment(uow, ticket.number, {"body": "Lost with the savepoint"})
            assert (flushed == [], held.version) == (direct, 2)
            raise RuntimeError("the step failed")
        assert (held.status_category, held.version) == ("new", 1)
        assert inspect(lost).transient
        comments.add_comment(uow, ticket.number, {"body": "Kept"})
    shown = details(desk, ticket.number)
    assert [comment["body"] for comment in shown["comments"]] == ["<p>Kept</p>"]
    assert (shown["status"], shown["version"]) == ("open", 2)


@SAVEPOINTS
def test_a_ticket_rolled_back_with_its_savepoint_is_forgotten(
    desk: Desk, support: dict[str, Any], opened: Callable[[Any], Any], direct: bool
) -> None:
    values = {"subject": "Lost with the savepoint", "body": "Page 3 is stuck.", "requester": "new@example.com"}
    with desk.action(SYSTEM, source="test") as uow:
        with contextlib.suppress(RuntimeError), opened(uow):
            flushed = flushes(uow.session)
            lost = tickets.create_ticket(uow, values | {"tags": ["printer"]})
            assert flushed == ([] if direct else [1])
            raise RuntimeError("the step failed")
        assert inspect(lost).transient
        if direct:  # only the unit of work knows the requester was created for the ticket, with it
            assert inspect(lost.requester).transient
        kept = tickets.create_ticket(uow, values | {"subject": "Kept"})
        assert uow.session.get(User, kept.requester_id).email == "new@example.com"
    assert details(desk, kept.number)["subject"] == "Kept"
    with desk.db.reading() as session:
        assert session.scalars(select(Ticket.subject)).all() == ["Kept"]
        assert session.scalars(select(User.email).where(User.email == "new@example.com")).all() == ["new@example.com"]


def test_only_the_innermost_savepoint_of_the_unit_of_work_writes_directly(desk: Desk, support: dict[str, Any]) -> None:
    """Inside a savepoint opened some other way, the unit of work could not forget what it wrote."""
    with desk.action(SYSTEM, source="test") as uow:
        assert uow.writes_directly()
        with uow.savepoint():
            assert uow.writes_directly()
            with uow.session.begin_nested():
                assert not uow.writes_directly()
                with uow.savepoint():
                    assert uow.writes_directly()
            assert uow.writes_directly()


def test_a_rolled_back_savepoint_takes_back_its_events(desk: Desk, support: dict[str, Any]) -> None:
    """Bulk changes, automation rules and mail import run steps in savepoints: a failed step delivers nothing."""
    ticket = create(desk, group="Support")
    with desk.action(support["agent"], source="test") as uow:
        with contextlib.suppress(RuntimeError), uow.savepoint():
            tickets.update_ticket(uow, ticket.number, {"priority": "high"})
            raise RuntimeError("the step failed")
        assert uow.emitted == []
        with uow.savepoint():
            tickets.update_ticket(uow, ticket.number, {"priority": "low"})
        kept = [event.name for event in uow.emitted]
    assert kept == ["ticket.updated"]
    with desk.db.reading() as session:
        assert session.scalars(select(Event.name).where(Event.ticket_id == ticket.id).order_by(Event.id)).all() == [
            "ticket.created",
            "ticket.updated",
        ]
