"""Full-text search: finds words in subjects, descriptions and comments; hides internal notes; never errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.search import excerpt, fts5_query, search, tokens
from frontdesk.services import comments, people, tickets


@pytest.fixture
def corpus(desk: Desk, make_user: Any) -> dict[str, Any]:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
    agent = make_user(email="agent@example.com", role="agent", groups=["Support"])
    rita = make_user(email="rita@example.com")
    made = {}
    for key, subject, body in (
        ("printer", "Printer jammed on floor 3", "The printer shows error E42."),
        ("vpn", "VPN disconnects", "Since Monday the VPN drops every hour."),
        ("cafe", "Café machine", "The café machine is broken again."),
    ):
        with desk.action(SYSTEM, source="test") as uow:
            made[key] = tickets.create_ticket(
                uow, {"subject": subject, "body": body, "requester": "rita@example.com", "group": "Support"}
            ).number
    with desk.action(agent, source="test") as uow:
        comments.add_comment(uow, made["vpn"], {"body": "Firmware upgrade scheduled"})
        comments.add_comment(uow, made["vpn"], {"body": "Root cause: flaky switch", "public": False})
    return {"agent": agent, "rita": rita, **made}


def found(desk: Desk, actor: Any, query: str) -> list[int]:
    with desk.reading(actor) as uow:
        return [hit.ticket_id for hit in search(uow, query)]


def test_words_in_subject_description_and_comments(desk: Desk, corpus: dict[str, Any]) -> None:
    agent = corpus["agent"]
    assert found(desk, agent, "printer") == [corpus["printer"]]
    assert found(desk, agent, "E42") == [corpus["printer"]]
    assert found(desk, agent, "firmware") == [corpus["vpn"]]
    assert found(desk, agent, "vpn hour") == [corpus["vpn"]]
    assert found(desk, agent, "disconn") == [corpus["vpn"]], "the last word matches as a prefix"
    assert found(desk, agent, "cafe") == [corpus["cafe"]], "accents are folded"


def test_internal_notes_are_searched_for_agents_only(desk: Desk, corpus: dict[str, Any]) -> None:
    assert found(desk, corpus["agent"], "flaky switch") == [corpus["vpn"]]
    assert found(desk, corpus["rita"], "flaky switch") == []
    assert found(desk, corpus["rita"], "firmware") == [corpus["vpn"]]


def test_search_respects_visibility(desk: Desk, corpus: dict[str, Any], make_user: Any) -> None:
    stranger = make_user(email="stranger@example.com")
    assert found(desk, stranger, "printer") == []
    assert found(desk, None, "printer") == []


@pytest.mark.parametrize(
    "query", ['"', "foo AND", "a:b", "*", "NEAR(", "printer OR", "-", "(", "'; DROP TABLE tickets;--"]
)
def test_query_syntax_is_never_interpreted(desk: Desk, corpus: dict[str, Any], query: str) -> None:
    with desk.reading(SYSTEM) as uow:
        search(uow, query)


def test_quoting() -> None:
    assert fts5_query('say "hi" a:b') == '"say" "hi" "a" "b"*'
    assert fts5_query("*** --") is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=40))
def test_any_string_returns_results_or_nothing(desk: Desk, corpus: dict[str, Any], query: str) -> None:
    with desk.reading(SYSTEM) as uow:
        assert isinstance(search(uow, query), list)


def test_relevance_sort_and_snippets(desk: Desk, corpus: dict[str, Any]) -> None:
    from frontdesk.queries import TicketFilter, list_tickets
    from frontdesk.search import snippets

    with desk.action(SYSTEM, source="test") as uow:
        noisy = tickets.create_ticket(
            uow, {"subject": "VPN VPN VPN", "body": "vpn vpn vpn everywhere", "requester": "rita@example.com"}
        ).number
    with desk.reading(corpus["agent"]) as uow:
        first = list_tickets(uow, TicketFilter(q="vpn"), sort="relevance", limit=1)
        second = list_tickets(uow, TicketFilter(q="vpn"), sort="relevance", limit=1, cursor=first.next_cursor)
        assert [t.number for t in first.items + second.items] == [noisy, corpus["vpn"]]
        assert second.next_cursor is None
        excerpts = snippets(uow, "printer", [corpus["printer"]])
    assert "<mark>" in excerpts[corpus["printer"]]
    assert "rinter" in excerpts[corpus["printer"]]
    with desk.reading(corpus["rita"]) as uow:
        assert snippets(uow, "flaky", [corpus["vpn"]]) == {}, "internal notes give requesters no snippet"
    with pytest.raises(Exception, match="relevance needs a search query"), desk.reading(SYSTEM) as uow:
        list_tickets(uow, TicketFilter(), sort="relevance")


def test_snippets_escape_html(desk: Desk, corpus: dict[str, Any]) -> None:
    from frontdesk.search import snippets

    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(
            uow, {"subject": "Odd", "body": "<script>alert(1)</script> zebra", "requester": "rita@example.com"}
        ).number
    with desk.reading(SYSTEM) as uow:
        excerpt = snippets(uow, "zebra", [number])[number]
    assert "<script>" not in excerpt
    assert "<mark>zebra</mark>" in excerpt


def test_excerpts_need_every_word_and_mark_each_match() -> None:
    text = (
        "The Printer on floor 3 is <b>broken</b> again; printing stripes, the printer queue is stuck for everyone today"
    )
    hits, shown = excerpt(text, tokens("print"))
    assert hits == 3
    assert shown.startswith(
        "The <mark>Printer</mark> on floor 3 is &lt;b&gt;broken&lt;/b&gt; again; <mark>printing</mark>"
    )
    assert shown.endswith("…"), "cut after EXCERPT_WORDS words"
    assert excerpt(text, tokens("printer stuck"))[0] == 3
    assert excerpt(text, tokens("printer vpn")) is None, "every word must be in the document"
    assert excerpt("Straße und Café", tokens("strasse cafe")) == (2, "<mark>Straße</mark> und <mark>Café</mark>")
    long = " ".join(f"w{i}" for i in range(40)) + " needle"
    assert excerpt(long, tokens("needle"))[1].startswith("…w37 w38 w39 <mark>needle</mark>")


@pytest.fixture
def busy_desk(desk: Desk, make_user: Any) -> dict[str, Any]:
    """Tickets in two groups whose words and last updates are spread so searches cross pages and groups."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Billing"})
    agent = make_user(email="agent@example.com", role="agent", groups=["Support"])
    rita = make_user(email="rita@example.com")
    numbers = []
    for i in range(30):
        words = ["printer" if i % 3 == 0 else "laptop", "invoice" if i % 4 == 0 else "login"]
        with desk.action(SYSTEM, source="test") as uow:
            numbers.append(
                tickets.create_ticket(
                    uow,
                    {
                        "subject": f"{words[0]} trouble {i}",
                        "body": f"The {words[1]} page fails.",
                        "requester": "rita@example.com" if i % 2 else "other@example.com",
                        "group": "Support" if i % 5 else "Billing",
                    },
                ).number
            )
    for i, number in enumerate(reversed(numbers[::3])):  # older tickets updated last, some by an internal note
        with desk.action(SYSTEM, source="test") as uow:
            comments.add_comment(uow, number, {"body": "printer firmware checked", "public": i % 2 == 1})
    return {"agent": agent, "rita": rita}


def every_page(desk: Desk, actor: Any, filters: Any, sort: str) -> list[int]:
    """Ticket numbers of a list, read three to a page."""
    from frontdesk.queries import list_tickets

    numbers: list[int] = []
    cursor = None
    while True:
        with desk.reading(actor) as uow:
            page = list_tickets(uow, filters, sort=sort, cursor=cursor, limit=3)
        numbers += [ticket.number for ticket in page.items]
        if page.next_cursor is None:
            return numbers
        cursor = page.next_cursor


@pytest.mark.sqlite_only  # PostgreSQL always maps every match
def test_common_words_walk_the_newest_tickets_with_the_same_answer(
    desk: Desk, busy_desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walking the newest tickets (a common word) lists exactly what mapping every match lists."""
    from frontdesk import queries
    from frontdesk import search as search_module
    from frontdesk.queries import TicketFilter

    cases = [
        (actor, TicketFilter(q=q, group=group, category=category), sort)
        for actor in (SYSTEM, busy_desk["agent"], busy_desk["rita"])
        for q in ("printer", "login", "printer fail", "invoice pag", "firmware", "nothing")
        for group, category in ((None, []), ("Support", ["new", "open"]))
        for sort in ("updated", "number")
    ]
    monkeypatch.setattr(search_module, "COMMON_DOCUMENTS", 10**9)
    mapped = [every_page(desk, *case) for case in cases]
    assert any(len(numbers) > 3 for numbers in mapped), "some lists span pages"

    walks = []
    real_has_match = search_module.has_match
    monkeypatch.setattr(search_module, "has_match", lambda *args: walks.append(args) or real_has_match(*args))
    monkeypatch.setattr(search_module, "COMMON_DOCUMENTS", 1)
    for window in (4, 12, 1000):  # 4: the newest tickets often hold less than a page and every match is mapped
        monkeypatch.setattr(queries, "WALK_ROWS", window)
        assert [every_page(desk, *case) for case in cases] == mapped
    assert walks, "the walk ran"


def relevance_pages(desk: Desk, actor: Any, q: str) -> tuple[list[int], bool]:
    """Every page of a search by relevance, three to a page, and whether the first ranked the newest texts only."""
    from frontdesk.queries import TicketFilter, list_tickets

    numbers: list[int] = []
    cursor, recent_only = None, None
    while True:
        with desk.reading(actor) as uow:
            page = list_tickets(uow, TicketFilter(q=q), sort="relevance", cursor=cursor, limit=3)
        recent_only = page.recent_only if recent_only is None else recent_only
        numbers += [ticket.number for ticket in page.items]
        if page.next_cursor is None:
            return numbers, bool(recent_only)
        cursor = page.next_cursor


@pytest.mark.sqlite_only  # PostgreSQL ranks every match
def test_common_words_are_ranked_among_the_newest_texts(
    desk: Desk, busy_desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranking every match of a common word is slow at scale; the newest texts are ranked, and the page says so."""
    from frontdesk import search as search_module
    from frontdesk.models import SearchDocument

    every, recent_only = relevance_pages(desk, SYSTEM, "printer")
    assert (recent_only, len(every)) == (False, 10)
    monkeypatch.setattr(search_module, "COMMON_DOCUMENTS", 1)
    monkeypatch.setattr(search_module, "RANK_WINDOW", 8)
    with desk.db.reading() as session:
        ids = session.scalars(select(SearchDocument.id).order_by(SearchDocument.id.desc())).all()
        edge = ids[search_module.RANK_WINDOW - 1]
        recent = select(SearchDocument.ticket_id).where(SearchDocument.id >= edge)
        in_window = set(session.scalars(recent.where(SearchDocument.folded.contains("printer"))))
    windowed, recent_only = relevance_pages(desk, SYSTEM, "printer")
    assert (recent_only, set(windowed), len(windowed)) == (True, in_window, len(in_window))
    assert [number for number in every if number in in_window] != every, "older matches are left out"

    # The newest texts are internal notes a requester may not search: every match is ranked for her.
    mine, recent_only = relevance_pages(desk, busy_desk["rita"], "printer")
    assert (len(mine), recent_only) == (5, False)
    with monkeypatch.context() as everything:
        everything.setattr(search_module, "COMMON_DOCUMENTS", 10**9)
        assert relevance_pages(desk, busy_desk["rita"], "printer") == (mine, False)

    # Later pages keep the first page's window, however many texts arrive meanwhile.
    from frontdesk.queries import TicketFilter, list_tickets

    with desk.reading(SYSTEM) as uow:
        first = list_tickets(uow, TicketFilter(q="printer"), sort="relevance", limit=3)
    for i in range(search_module.RANK_WINDOW):
        with desk.action(SYSTEM, source="test") as uow:
            tickets.create_ticket(uow, {"subject": f"printer {i}", "requester": "rita@example.com"})
    with desk.reading(SYSTEM) as uow:
        rest = list_tickets(uow, TicketFilter(q="printer"), sort="relevance", cursor=first.next_cursor, limit=100)
    assert set(windowed) <= {ticket.number for ticket in first.items + rest.items}
