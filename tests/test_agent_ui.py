"""The agent workspace in the browser's shoes (Flask test client): rail, lists, bulk actions and the ticket page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import pytest
from markupsafe import Markup, escape
from sqlalchemy import event, select

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.models import Comment, HistoryEntry, Macro, SavedView, Ticket, TicketLink
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation, comments, macros, people, tickets

# Signing in and reading pages


def csrf_token(client: Any, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"{path} has a form with a CSRF token"
    return match.group(1)


def login(client: Any, email: str) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"email": email, "password": "password123", "csrf_token": token})
    assert response.status_code == 302, response.text


def post(client: Any, path: str, data: dict[str, Any], page: str = "/agent/") -> Any:
    """Submit a form the way a browser does: with the CSRF token of a page the user has open."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def rail(html: str) -> dict[str, int]:
    """The rail's views and their counts, by label."""
    found = re.findall(
        r'<span class="rail-label">([^<]+)</span>\s*<span class="badge rounded-pill rail-count">(\d+)<', html
    )
    return {unescape(label): int(count) for label, count in found}


def listed(html: str) -> list[int]:
    """Ticket numbers of the list's rows, in order."""
    return [int(n) for n in re.findall(r'<tr class="ticket-row" data-href="/agent/tickets/(\d+)"', html)]


def flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<div class="alert alert-\w+" role="status">(.*?)</div>', html, re.S)]


def textarea(html: str, name: str = "body") -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1))


def selected(html: str, select_id: str) -> str:
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert block, f"no select {select_id}"
    choice = re.search(r'<option value="([^"]*)"[^>]* selected', block.group(1))
    return unescape(choice.group(1)) if choice else ""


def version_on(html: str) -> int:
    match = re.search(r'id="properties-form".*?name="version" value="(\d+)"', html, re.S)
    assert match
    return int(match.group(1))


# Data


@pytest.fixture
def team(desk: Desk, make_user: Any) -> dict[str, Any]:
    """Two groups with an agent each, an admin, and a requester of organization Acme."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Network"})
        people.create_organization(uow, {"name": "Acme"})
    return {
        "agent": make_user(email="agent@example.com", name="Agnes Agent", role="agent", groups=["Support"]),
        "network": make_user(email="net@example.com", name="Ned Net", role="agent", groups=["Network"]),
        "admin": make_user(email="admin@example.com", name="Ada Admin", role="admin"),
        "requester": make_user(email="rita@example.com", name="Rita Requester", organization="Acme"),
    }


def create(desk: Desk, **data: Any) -> Ticket:
    values = {"subject": "Printer jammed", "body": "Page 3 is stuck.", "requester": "rita@example.com"} | data
    with desk.action(SYSTEM, source="test") as uow:
        return tickets.create_ticket(uow, values)


def update(desk: Desk, number: int, actor: Any = SYSTEM, **data: Any) -> Ticket:
    with desk.action(actor, source="test") as uow:
        return tickets.update_ticket(uow, number, data)


def comment(desk: Desk, number: int, actor: Any, body: str, public: bool = True) -> None:
    with desk.action(actor, source="test") as uow:
        comments.add_comment(uow, number, {"body": body, "public": public})


def load(desk: Desk, number: int) -> Ticket:
    with desk.db.reading() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        _ = (ticket.status, ticket.priority, ticket.type, ticket.group, ticket.assignee, ticket.tags)
        return ticket


@pytest.fixture
def queues(desk: Desk, team: dict[str, Any]) -> dict[str, int]:
    """Tickets in every situation the rail distinguishes."""
    numbers = {
        "mine": create(desk, subject="Mine, open", group="Support", assignee="agent@example.com").number,
        "mine_too": create(desk, subject="Mine, urgent", group="Support", assignee="agent@example.com").number,
        "mine_solved": create(desk, subject="Mine, solved", group="Support", assignee="agent@example.com").number,
        "support_free": create(desk, subject="Support, nobody's", group="Support").number,
        "network_free": create(desk, subject="Network, nobody's", group="Network").number,
        "triage": create(desk, subject="No group yet").number,
    }
    update(desk, numbers["mine_too"], priority="urgent")
    update(desk, numbers["mine_solved"], status="solved")
    return numbers


# Access


def test_requesters_get_403_and_visitors_sign_in_first(client: Any, team: dict[str, Any]) -> None:
    assert client.get("/agent/").headers["Location"].startswith("/login")
    login(client, "rita@example.com")
    assert client.get("/agent/").status_code == 403
    assert client.get("/agent/views/recent").status_code == 403
    assert client.get("/agent/tickets/1").status_code == 403


# The rail and the views


def test_rail_counts_each_view_for_an_agent(client: Any, queues: dict[str, int]) -> None:
    login(client, "agent@example.com")
    page = client.get("/agent/")
    assert page.status_code == 200
    assert rail(page.text) == {
        "My open tickets": 2,
        "Unassigned in my groups": 2,  # Support's and the triage queue's (no group), not Network's
        "Support": 3,
        "Recently updated": 5,
    }
    assert 'aria-current="page"' in page.text
    assert "Network" not in rail(page.text), "an agent sees only their own groups' queues"
    assert "All tickets" not in rail(page.text), "All is for admins"


def test_rail_of_an_admin_has_every_group_and_all(client: Any, queues: dict[str, int]) -> None:
    login(client, "admin@example.com")
    counts = rail(client.get("/agent/").text)
    assert counts == {
        "My open tickets": 0,
        "Unassigned": 3,
        "Network": 1,
        "Support": 3,
        "All tickets": 6,
        "Recently updated": 6,
    }


def test_the_rail_refreshes_alone(client: Any, queues: dict[str, int]) -> None:
    login(client, "agent@example.com")
    partial = client.get("/agent/rail?current=mine")
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith("<nav")
    assert rail(partial.text)["My open tickets"] == 2
    assert 'hx-trigger="every 60s"' in partial.text


def test_each_view_lists_what_its_count_says(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    login(client, "agent@example.com")
    assert sorted(listed(client.get("/agent/").text)) == sorted([queues["mine"], queues["mine_too"]])
    unassigned = listed(client.get("/agent/views/unassigned").text)
    assert sorted(unassigned) == sorted([queues["support_free"], queues["triage"]])
    with desk.db.reading() as session:
        from frontdesk.models import Group

        support = session.scalar(select(Group.id).where(Group.name == "Support"))
        network = session.scalar(select(Group.id).where(Group.name == "Network"))
    queue = listed(client.get(f"/agent/groups/{support}").text)
    assert sorted(queue) == sorted([queues["mine"], queues["mine_too"], queues["support_free"]])
    assert client.get(f"/agent/groups/{network}").status_code == 404, "not the agent's group"
    recent = listed(client.get("/agent/views/recent").text)
    assert queues["network_free"] not in recent
    assert queues["mine_solved"] in recent
    assert client.get("/agent/views/nowhere").status_code == 404
    everything = client.get("/agent/views/all?q=mine")
    assert everything.status_code == 200, "agents may search everything they can see"
    assert queues["network_free"] not in listed(everything.text)


def test_filters_are_get_parameters(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    update(desk, queues["mine"], tags=["vpn"])
    login(client, "agent@example.com")
    assert listed(client.get("/agent/?priority=urgent").text) == [queues["mine_too"]]
    assert listed(client.get("/agent/?tag=VPN").text) == [queues["mine"]]
    assert listed(client.get("/agent/?category=solved").text) == [queues["mine_solved"]]
    assert len(listed(client.get("/agent/?category=any").text)) == 3
    page = client.get("/agent/?priority=urgent").text
    assert selected(page, "filter-priority") == "urgent"


def test_search_shows_the_highlighted_snippet(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    hit = create(desk, subject="Remote access", body="The VPN gateway drops <b>packets</b> at noon.", group="Support")
    create(desk, subject="Printer", body="Out of toner.", group="Support")
    login(client, "agent@example.com")
    page = client.get("/agent/views/recent?q=gateway")
    assert listed(page.text) == [hit.number]
    assert 'class="snippet small text-body-secondary"' in page.text
    snippet = re.search(r'<div class="snippet[^"]*">(.*?)</div>', page.text, re.S).group(1)
    assert "<mark>gateway</mark>" in snippet.lower()
    assert "<b>" not in snippet, "the snippet is escaped text"
    assert 'value="gateway"' in page.text, "the box keeps the query"
    assert '<caption class="visually-hidden">Recently updated, sorted by relevance</caption>' in page.text
    assert listed(client.get("/agent/views/recent?q=nothing-matches-this").text) == []


@pytest.mark.sqlite_only  # PostgreSQL ranks every match
def test_a_common_word_ranked_among_the_newest_texts_says_so(
    client: Any, desk: Desk, team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk import search
    from frontdesk_webui import agent_views

    for n in range(4):
        create(desk, subject=f"Gateway {n}", body="The VPN gateway drops packets.", group="Support")
    monkeypatch.setattr(search, "COMMON_DOCUMENTS", 1)
    monkeypatch.setattr(search, "RANK_WINDOW", 3)
    monkeypatch.setattr(agent_views, "PAGE_SIZE", 2)
    login(client, "agent@example.com")
    page = client.get("/agent/views/recent?q=gateway").text
    assert listed(page) == [4, 3]
    note = re.search(r'<p class="[^"]*" id="recent-only">(.*?)</p>', page, re.S).group(1)
    assert "the best matches among the newest 3 messages" in " ".join(note.split())
    assert 'href="/agent/views/recent?q=gateway&amp;sort=updated"' in note
    assert listed(client.get("/agent/views/recent?q=gateway&sort=updated").text) == [4, 3]
    listing = client.get("/api/v1/tickets?q=gateway&sort=relevance&limit=2").get_json()
    assert ([item["number"] for item in listing["items"]], listing["recent_only"]) == ([4, 3], True)
    rest = client.get(f"/api/v1/tickets?q=gateway&sort=relevance&cursor={listing['next_cursor']}").get_json()
    assert [item["number"] for item in rest["items"]] == [2], "ranked among the newest three texts"
    monkeypatch.setattr(search, "COMMON_DOCUMENTS", 10**9)
    assert 'id="recent-only"' not in client.get("/agent/views/recent?q=gateway").text
    assert client.get("/api/v1/tickets?q=gateway&sort=relevance").get_json()["recent_only"] is False


def test_subjects_are_escaped(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    ticket = create(desk, subject="<script>alert(1)</script>", group="Support", assignee="agent@example.com")
    login(client, "agent@example.com")
    for path in ("/agent/", f"/agent/tickets/{ticket.number}"):
        text = client.get(path).text
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_columns_sort_newest_or_most_urgent_first(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    low = create(desk, subject="low", group="Support", priority="low").number
    urgent = create(desk, subject="urgent", group="Support", priority="urgent").number
    high = create(desk, subject="high", group="Support", priority="high").number
    update(desk, low, subject="low, touched last")
    login(client, "agent@example.com")
    assert listed(client.get("/agent/views/recent?sort=priority").text) == [urgent, high, low]
    assert listed(client.get("/agent/views/recent?sort=number").text) == [high, urgent, low]
    assert listed(client.get("/agent/views/recent?sort=created").text) == [high, urgent, low]
    page = client.get("/agent/views/recent").text
    assert listed(page) == [low, high, urgent], "updated is the default"
    assert 'aria-sort="descending"' in page
    assert 'href="/agent/views/recent?sort=priority"' in page
    assert listed(client.get("/agent/views/recent?sort=bogus").text) == [low, high, urgent], "unknown: the default"


def test_pages_follow_the_cursor_and_keep_the_filters(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    numbers = [create(desk, subject=f"Ticket {i}", group="Support", tags=["batch"]).number for i in range(30)]
    create(desk, subject="Not in the batch", group="Support")
    login(client, "agent@example.com")
    first = client.get("/agent/views/recent?tag=batch&sort=number")
    assert listed(first.text) == numbers[::-1][:25]
    next_link = re.search(
        r'<a class="btn btn-sm btn-outline-primary" href="([^"]+)" rel="next">Next page</a>', first.text
    )
    assert next_link, "a next page link"
    href = unescape(next_link.group(1))
    assert "tag=batch" in href
    assert "sort=number" in href
    assert "cursor=" in href
    second = client.get(href)
    assert listed(second.text) == numbers[::-1][25:]
    assert "Next page" not in second.text
    assert "First page" in second.text


# Bulk actions


def test_bulk_actions_apply_to_the_ticked_tickets(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    login(client, "agent@example.com")
    picked = [queues["support_free"], queues["triage"]]
    back = "/agent/views/unassigned?sort=number"
    response = post(client, "/agent/bulk", {"ids": picked, "action": "assign_me", "next": back})
    assert response.headers["Location"] == back
    assert "2 tickets assigned to you." in flashes(client.get(back).text)
    assert all(load(desk, n).assignee.email == "agent@example.com" for n in picked)

    post(client, "/agent/bulk", {"ids": picked, "action": "status", "bulk_status": "pending", "bulk_priority": "low"})
    assert {load(desk, n).status.name for n in picked} == {"pending"}
    assert {load(desk, n).priority.name for n in picked} == {"normal"}, "only the chosen action applies"
    post(client, "/agent/bulk", {"ids": picked, "action": "priority", "bulk_priority": "high"})
    assert {load(desk, n).priority.name for n in picked} == {"high"}
    response = post(client, "/agent/bulk", {"ids": picked, "action": "add_tag", "bulk_tag": "Outage, vpn"})
    assert {tuple(tag.name for tag in load(desk, n).tags) for n in picked} == {("outage", "vpn")}
    assert "2 tickets tagged Outage, vpn." in flashes(client.get(response.headers["Location"]).text)


def test_bulk_reports_tickets_it_could_not_change(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    update(desk, queues["triage"], status="closed")
    login(client, "agent@example.com")
    ids = [queues["support_free"], queues["triage"], queues["network_free"]]
    response = post(client, "/agent/bulk", {"ids": ids, "action": "priority", "bulk_priority": "urgent"})
    summary = flashes(client.get(response.headers["Location"]).text)[0]
    assert summary.startswith("1 of 3 tickets priority set to urgent. Not changed:")
    assert f"#{queues['triage']}: ticket #{queues['triage']} is closed" in summary
    assert f"#{queues['network_free']}: ticket #{queues['network_free']} not found" in summary
    assert load(desk, queues["support_free"]).priority.name == "urgent"
    nothing = post(client, "/agent/bulk", {"action": "assign_me"})
    assert "Tick at least one ticket first." in flashes(client.get(nothing.headers["Location"]).text)


def test_bulk_goes_back_only_to_this_site(client: Any, queues: dict[str, int]) -> None:
    login(client, "agent@example.com")
    response = post(client, "/agent/bulk", {"ids": [queues["mine"]], "action": "assign_me", "next": "//evil.example/"})
    assert response.headers["Location"] == "/agent/"


# The ticket page


def test_ticket_page_shows_header_thread_and_requester(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    earlier = create(desk, subject="Earlier problem", group="Support").number
    ticket = create(desk, subject="VPN down", body="It <i>stopped</i> at 9.", group="Support", priority="high").number
    comment(desk, ticket, team["agent"], "We are on it.")
    comment(desk, ticket, team["agent"], "Gateway logs show **drops**.", public=False)
    comment(desk, ticket, team["requester"], "Thanks!")
    login(client, "agent@example.com")
    page = client.get(f"/agent/tickets/{ticket}").text
    assert f'<span class="text-body-secondary">#{ticket}</span> VPN down</h1>' in page
    assert '<span class="badge text-bg-danger" id="ticket-status">open</span>' in page
    assert "high priority" in page
    notes = re.findall(r'<article class="card message message-note"', page)
    replies = re.findall(r'<article class="card message message-reply( from-staff)?"', page)
    assert (len(notes), len(replies)) == (1, 3), "the description and two replies, one note"
    assert replies == ["", " from-staff", ""], "an agent's reply is marked as the desk's"
    note = page[page.index("message-note") :].split("</article>")[0]
    assert "Internal note" in note
    assert "Gateway logs show" in note
    assert "Agnes Agent" in note
    assert "<time datetime=" in note
    assert "<p>It &lt;i&gt;stopped&lt;/i&gt; at 9.</p>" in page, "descriptions are stored sanitized and shown as is"
    assert "Rita Requester" in page
    assert "mailto:rita@example.com" in page
    assert "Acme" in page
    assert f'href="/agent/tickets/{earlier}">#{earlier} Earlier problem</a>' in page
    assert textarea(page) == ""
    assert 'id="visibility-public" value="public" checked' in page, "a reply to the requester is the default"


def test_every_form_carries_the_csrf_token(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    login(client, "agent@example.com")
    for path in ("/agent/", f"/agent/tickets/{queues['mine']}"):
        page = client.get(path).text
        forms = re.findall(r'<form[^>]*method="post".*?</form>', page, re.S)
        assert forms
        assert all('name="csrf_token"' in form for form in forms)
    refused = client.post(f"/agent/tickets/{queues['mine']}/comments", data={"body": "hi"})
    assert refused.status_code == 400


def test_reply_and_internal_note_are_posted(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    number = queues["mine"]
    login(client, "agent@example.com")
    page = f"/agent/tickets/{number}"
    response = post(client, f"{page}/comments", {"body": "Please restart it.", "visibility": "public"}, page)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{page}#composer"
    assert "Reply sent to the requester." in flashes(client.get(page).text)
    post(client, f"{page}/comments", {"body": "Probably the <script>x</script> driver", "visibility": "internal"}, page)
    with desk.db.reading() as session:
        rows = session.execute(select(Comment.body, Comment.public, Comment.channel).order_by(Comment.id)).all()
    assert [(public, channel) for _body, public, channel in rows] == [(True, "web"), (False, "web")]
    assert "<script>" not in rows[1][0]
    assert load(desk, number).status.name == "open"


def test_a_refused_comment_keeps_the_text(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    number = queues["mine"]
    login(client, "agent@example.com")
    page = f"/agent/tickets/{number}"
    token = csrf_token(client, page)
    update(desk, number, status="closed")
    response = client.post(
        f"{page}/comments", data={"csrf_token": token, "body": "My long answer", "visibility": "internal"}
    )
    assert response.status_code == 409
    assert "is closed" in response.text
    assert textarea(response.text) == "My long answer"
    assert 'id="visibility-internal" value="internal" checked' in response.text
    blank = client.post(f"{page}/comments", data={"csrf_token": token, "body": "  "})
    assert blank.status_code in (409, 422)


def test_properties_form_updates_the_ticket(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    number = queues["support_free"]
    update(desk, number, tags=["old", "keep"])
    login(client, "agent@example.com")
    page = f"/agent/tickets/{number}"
    version = version_on(client.get(page).text)
    form = {
        "version": version,
        "subject": "Support, now Agnes's",
        "status": "pending",
        "priority": "high",
        "type": "incident",
        "group": "Support",
        "assignee": "agent@example.com",
        "add_tags": "Billing, vpn",
        "remove_tags": ["old"],
    }
    response = post(client, f"{page}/properties", form, page)
    assert response.status_code == 302, response.text
    ticket = load(desk, number)
    assert ticket.subject == "Support, now Agnes's"
    assert (ticket.status.name, ticket.priority.name, ticket.type.name) == ("pending", "high", "incident")
    assert ticket.assignee.email == "agent@example.com"
    assert [tag.name for tag in ticket.tags] == ["billing", "keep", "vpn"]
    shown = client.get(page).text
    assert f"Ticket #{number} updated." in flashes(shown)
    assert selected(shown, "prop-status") == "pending"
    assert selected(shown, "prop-assignee") == "agent@example.com"
    with desk.db.reading() as session:
        sources = set(session.scalars(select(HistoryEntry.source).where(HistoryEntry.ticket_id == number)))
    assert "web" in sources

    post(client, f"{page}/properties", {"version": version_on(shown), "type": "", "assignee": ""}, page)
    ticket = load(desk, number)
    assert (ticket.type, ticket.assignee) == (None, None)


def test_a_refused_change_shows_the_reasons_and_keeps_the_form(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    number = queues["support_free"]
    login(client, "agent@example.com")
    page = f"/agent/tickets/{number}"
    form = {"version": version_on(client.get(page).text), "subject": "Kept", "assignee": "net@example.com"}
    response = post(client, f"{page}/properties", form, page)
    assert response.status_code == 422
    assert "not a member of group" in response.text
    assert 'id="prop-subject" name="subject" value="Kept"' in response.text
    assert load(desk, number).subject == "Support, nobody's"


def test_a_stale_version_is_refused_and_keeps_what_was_typed(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    number = queues["mine"]
    login(client, "agent@example.com")
    page = f"/agent/tickets/{number}"
    seen = client.get(page).text
    token = csrf_token(client, page)
    update(desk, number, priority="urgent", subject="Renamed by a colleague")  # meanwhile, elsewhere
    response = client.post(
        f"{page}/properties",
        data={
            "csrf_token": token,
            "version": version_on(seen),
            "subject": "My better subject",
            "status": "pending",
            "priority": "low",
            "add_tags": "mine-too",
            "draft_body": "Half-written reply to Rita",
            "draft_visibility": "internal",
        },
    )
    assert response.status_code == 409
    text = response.text
    assert 'id="conflict-alert"' in text
    assert "Someone else changed this ticket while you were editing it." in text
    alert = text[text.index('id="conflict-alert"') :].split("</div>")[0]
    assert "Renamed by a colleague" in alert, "the alert shows the current values"
    assert "urgent" in alert
    assert "yours: low" in alert
    assert 'id="prop-subject" name="subject" value="My better subject"' in text, "what the agent chose is kept"
    assert selected(text, "prop-status") == "pending"
    assert selected(text, "prop-priority") == "low"
    assert 'value="mine-too"' in text
    assert textarea(text) == "Half-written reply to Rita", "the composer text is kept"
    assert 'id="visibility-internal" value="internal" checked' in text
    assert version_on(text) == version_on(seen) + 1, "submitting again applies to the current version"
    ticket = load(desk, number)
    assert (ticket.subject, ticket.priority.name, ticket.status.name) == ("Renamed by a colleague", "urgent", "new")

    again = client.post(
        f"{page}/properties",
        data={"csrf_token": token, "version": version_on(text), "status": "pending", "draft_body": "Still here"},
    )
    assert again.status_code == 200, "a successful update with an unsent reply keeps the reply on the page"
    assert textarea(again.text) == "Still here"
    assert load(desk, number).status.name == "pending"


def test_assign_to_me_button(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    number = queues["support_free"]
    login(client, "agent@example.com")
    page = client.get(f"/agent/tickets/{number}").text
    form = re.search(r'<form[^>]*id="assign-me-form".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    assert fields["assignee"] == "agent@example.com"
    response = client.post(f"/agent/tickets/{number}/properties", data=fields)
    assert response.status_code == 302
    assert load(desk, number).assignee.email == "agent@example.com"
    assert 'id="assign-me-form"' not in client.get(f"/agent/tickets/{number}").text, "already mine"


def test_tickets_of_other_groups_are_not_found(client: Any, desk: Desk, queues: dict[str, int]) -> None:
    hidden = queues["network_free"]
    login(client, "agent@example.com")
    assert client.get(f"/agent/tickets/{hidden}").status_code == 404
    for action, data in (
        ("comments", {"body": "Hello"}),
        ("properties", {"priority": "low"}),
        ("links", {"other": "abc"}),
        (f"links/{queues['mine']}/delete", {}),
        ("merge", {}),
    ):
        response = post(client, f"/agent/tickets/{hidden}/{action}", data)
        assert response.status_code == 404, action
    assert load(desk, hidden).priority.name == "normal"


def test_link_and_merge_forms(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    first = create(desk, subject="First", group="Support").number
    second = create(desk, subject="Second", group="Support").number
    duplicate = create(desk, subject="Same as first", group="Support").number
    login(client, "agent@example.com")
    page = f"/agent/tickets/{first}"
    response = post(client, f"{page}/links", {"other": f"#{second}", "kind": "parent"}, page)
    assert response.headers["Location"] == f"{page}#links"
    shown = client.get(page).text
    assert f"Linked #{first} to #{second} (parent)." in flashes(shown)
    assert f'Parent of <a href="/agent/tickets/{second}">#{second}</a>' in shown
    assert f'Child of <a href="/agent/tickets/{first}">#{first}</a>' in client.get(f"/agent/tickets/{second}").text
    again = post(client, f"{page}/links", {"other": str(second), "kind": "parent"}, page)
    assert "already linked" in flashes(client.get(again.headers["Location"]).text)[0]
    bad = post(client, f"{page}/links", {"other": "abc", "kind": "related"}, page)
    assert "give a ticket number" in flashes(client.get(bad.headers["Location"]).text)[0]
    assert f'data-confirm="Remove the link between #{first} and #{second}?"' in shown
    asked = post(client, f"{page}/links/{second}/delete", {}, page)
    assert asked.status_code == 200
    assert f"Remove link “#{first} ↔ #{second}”?" in unescape(asked.text)
    with desk.db.reading() as session:
        assert session.scalar(select(TicketLink.id)) is not None
    post(client, f"{page}/links/{second}/delete", {"confirm": "yes"}, page)
    with desk.db.reading() as session:
        assert session.scalar(select(TicketLink.id)) is None

    dup_page = f"/agent/tickets/{duplicate}"
    unconfirmed = post(client, f"{dup_page}/merge", {"into": str(first)}, dup_page)
    assert "tick the box to confirm the merge" in flashes(client.get(unconfirmed.headers["Location"]).text)[0]
    assert load(desk, duplicate).status.name != "closed"
    merged = post(client, f"{dup_page}/merge", {"into": str(first), "confirm": "yes"}, dup_page)
    assert merged.headers["Location"] == page
    target = client.get(page).text
    assert f"Ticket #{duplicate} was merged into #{first} and closed." in flashes(target)
    assert f"Merged from #{duplicate}: Same as first" in target
    closed = client.get(dup_page).text
    assert load(desk, duplicate).status.name == "closed"
    assert f'Merged into <a href="/agent/tickets/{first}">#{first}</a>' in closed
    assert 'id="merge-form"' not in closed
    assert '<fieldset class="card-body" disabled>' in closed, "a closed ticket's composer is disabled"


def test_history_tab_lists_every_change(client: Any, desk: Desk, queues: dict[str, int], team: dict[str, Any]) -> None:
    number = queues["support_free"]
    update(desk, number, team["agent"], priority="high")
    login(client, "agent@example.com")
    page = client.get(f"/agent/tickets/{number}").text
    assert 'data-bs-target="#history"' in page
    assert 'id="history" role="tabpanel"' in page
    history = page[page.index('id="history"') :].split("</section>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", history.split("<tbody>")[1], re.S)
    assert len(rows) == 2, "created, then the priority"
    words = " ".join(re.sub(r"<[^>]+>", " ", rows[1]).split())
    assert "priority" in words
    assert "normal → changed to high" in words
    assert "Agnes Agent" in words
    assert "test" in words, "the source"


# Plugin slots


class Panels:
    NAME = "panels"

    @hookimpl
    def frontdesk_slot_ticket_sidebar(self, ticket: Ticket, user: Any) -> Any:
        return Markup('<section class="card" id="sla-panel">SLA clock for #{} seen by {}</section>').format(
            ticket.number, user.email
        )

    @hookimpl
    def frontdesk_slot_ticket_actions(self, ticket: Ticket, user: Any) -> Any:
        return (
            10,
            Markup('<button type="button" class="btn btn-sm" id="escalate">Escalate #{}</button>').format(
                ticket.number
            ),
        )


class PlainText:
    NAME = "plaintext"

    @hookimpl
    def frontdesk_slot_ticket_sidebar(self, ticket: Ticket, user: Any) -> Any:
        return "<b>not html</b>"

    @hookimpl
    def frontdesk_slot_ticket_actions(self, ticket: Ticket, user: Any) -> Any:
        return (5, "<i>first</i>")


class Broken:
    NAME = "broken"

    @hookimpl
    def frontdesk_slot_ticket_sidebar(self, ticket: Ticket, user: Any) -> Any:
        raise RuntimeError("the panel fell over")

    @hookimpl
    def frontdesk_slot_ticket_actions(self, ticket: Ticket, user: Any) -> Any:
        raise RuntimeError("the action fell over")


@pytest.mark.frontdesk_plugins("webui", Panels(), PlainText(), Broken())
def test_hook_frontdesk_slot_ticket_sidebar_renders_plugin_panels(
    client: Any, desk: Desk, team: dict[str, Any]
) -> None:
    number = create(desk, group="Support").number
    login(client, "agent@example.com")
    response = client.get(f"/agent/tickets/{number}")
    assert response.status_code == 200, "a failing plugin is skipped"
    sidebar = response.text[response.text.index('<div class="plugin-panels">') :].split("</aside>")[0]
    assert (
        f'<section class="card" id="sla-panel">SLA clock for #{number} seen by agent@example.com</section>' in sidebar
    )
    assert escape("<b>not html</b>") in sidebar
    assert "fell over" not in response.text


@pytest.mark.frontdesk_plugins("webui", Panels(), PlainText(), Broken())
def test_hook_frontdesk_slot_ticket_actions_renders_plugin_actions(
    client: Any, desk: Desk, team: dict[str, Any]
) -> None:
    number = create(desk, group="Support").number
    login(client, "agent@example.com")
    response = client.get(f"/agent/tickets/{number}")
    assert response.status_code == 200
    actions = response.text[response.text.index('<div class="plugin-actions') :].split("</div>")[0]
    assert actions.index("&lt;i&gt;first&lt;/i&gt;") < actions.index(f'id="escalate">Escalate #{number}</button>')
    assert "fell over" not in response.text


class Deadlines:
    """A plugin with a list column (one call per page) and a column whose cells fail."""

    NAME = "deadlines"

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def due(self, tickets: Any) -> dict[int, Any]:
        self.calls.append([t.id for t in tickets])
        due = Markup('<span class="due">in {} h</span>')
        return {t.id: due.format(t.id) if t.id % 2 else "<b>late</b>" for t in tickets}

    @hookimpl
    def frontdesk_ticket_list_columns(self, user: Any) -> list[Any]:
        from frontdesk.plugins import ListColumn

        def broken(tickets: Any) -> dict[int, Any]:
            raise RuntimeError("no clock")

        return [ListColumn("due", "Due", self.due), ListColumn("broken", "Broken", broken, weight=1)]


DEADLINES = Deadlines()


@pytest.mark.frontdesk_plugins("webui", DEADLINES)
def test_hook_frontdesk_ticket_list_columns_add_a_column_filled_once_per_page(
    client: Any, desk: Desk, team: dict[str, Any]
) -> None:
    first = create(desk, group="Support").number
    second = create(desk, group="Support").number
    login(client, "agent@example.com")
    DEADLINES.calls.clear()
    html = client.get("/agent/views/all").text
    assert '<th scope="col" class="plugin-column">Due</th>' in html
    assert "Broken" not in html, "a failing column is left out"
    assert f'<span class="due">in {first} h</span>' in html
    assert "&lt;b&gt;late&lt;/b&gt;" in html, f"plain text of #{second} is escaped"
    assert DEADLINES.calls == [[second, first]]


# Queries


@contextmanager
def counting(desk: Desk) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The once-a-second looks at plugin decisions, desk settings and whether rules changed (with the
        # table checks they start with, which PostgreSQL answers from pg_catalog) land in whichever request comes.
        markers = ("FROM plugin_states", "FROM plugin_settings", "max(rules.updated_at)", "pg_catalog")
        periodic = any(marker in statement for marker in markers)
        if statement.lstrip().upper().startswith("SELECT") and not periodic:
            statements.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", count)


def selects_for(client: Any, desk: Desk, path: str) -> int:
    with counting(desk) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_the_list_page_takes_a_fixed_number_of_queries(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    def add(n: int) -> None:
        for i in range(n):
            create(
                desk,
                subject=f"Ticket {i}",
                group="Support",
                tags=["a", f"t{i % 3}"],
                ccs=[f"cc{i}@example.com"],
                assignee="agent@example.com",
            )

    login(client, "agent@example.com")
    add(5)
    few = selects_for(client, desk, "/agent/?q=ticket")
    add(25)
    many = selects_for(client, desk, "/agent/?q=ticket")
    assert len(listed(client.get("/agent/").text)) == 25
    assert few == many, "queries do not grow with the rows shown"
    assert many <= 15, many


def test_the_ticket_page_takes_a_fixed_number_of_queries(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    number = create(desk, group="Support", tags=["a", "b"], ccs=["cc@example.com"]).number
    login(client, "agent@example.com")

    def add(n: int) -> None:
        for i in range(n):
            note = i % 3 == 0
            actor = team["agent"] if note or i % 2 else team["requester"]
            comment(desk, number, actor, f"Comment {i}", public=not note)
            if i % 5 == 0:
                update(desk, number, team["agent"], priority="high" if i % 10 else "low")

    add(5)
    few = selects_for(client, desk, f"/agent/tickets/{number}")
    add(25)
    many = selects_for(client, desk, f"/agent/tickets/{number}")
    assert client.get(f"/agent/tickets/{number}").text.count('<article class="card message') == 31
    assert few == many, "queries do not grow with comments or history"
    assert many <= 34, many  # incl. the macro menu, the automation log and the notification bell


# Automation where agents work: the macro menu, escalation, the automation tab, personal macros, notifications


def shared_macro(desk: Desk, **data: Any) -> int:
    with desk.action(SYSTEM, source="test") as uow:
        return macros.create_macro(uow, {"shared": True, **data}).id


def test_an_agent_applies_a_macro_from_the_ticket_page(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    macro = shared_macro(
        desk,
        name="Waiting for you",
        body="Hi {{ ticket.requester.name }}, we need a screenshot. {{ agent.name }}",
        actions=[{"type": "set", "field": "status", "value": "pending"}],
    )
    number = create(desk, group="Support").number
    login(client, "agent@example.com")
    page = client.get(f"/agent/tickets/{number}").text
    assert 'id="macro-select"' in page
    assert "Waiting for you" in page
    response = post(client, f"/agent/tickets/{number}/macro", {"macro": macro, "version": load(desk, number).version})
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).text
    assert "Applied “Waiting for you”." in flashes(shown)
    assert "Hi Rita Requester, we need a screenshot. Agnes Agent" in shown
    assert load(desk, number).status.name == "pending"


def test_a_macro_on_a_stale_page_changes_nothing(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    macro = shared_macro(desk, name="Close it", actions=[{"type": "set", "field": "status", "value": "solved"}])
    number = create(desk, group="Support").number
    login(client, "agent@example.com")
    seen = load(desk, number).version
    update(desk, number, priority="high")
    response = post(client, f"/agent/tickets/{number}/macro", {"macro": macro, "version": seen})
    assert response.status_code == 409
    assert 'id="conflict-alert"' in response.text
    assert load(desk, number).status.name == "new"


def test_escalation_from_the_ticket_page(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.update_group(uow, people.find_group(uow, "Support").id, {"escalates_to": "Network"})
    number = create(desk, group="Support", assignee="agent@example.com").number
    other = create(desk, group="Network").number
    login(client, "agent@example.com")
    assert "Escalate to Network" in client.get(f"/agent/tickets/{number}").text
    response = post(client, f"/agent/tickets/{number}/escalate", {"reason": "needs the network team"})
    assert response.status_code == 302
    ticket = load(desk, number)
    assert (ticket.group.name, ticket.assignee) == ("Network", None)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "net@example.com")
    assert 'id="escalate-form"' not in client.get(f"/agent/tickets/{other}").text, "Network is the last level"


def test_the_automation_tab_explains_each_rule(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        automation.create_rule(
            uow,
            {
                "name": "Urgent printers",
                "events": ["ticket.created"],
                "conditions": [{"field": "priority", "op": "is", "value": "urgent"}],
                "actions": [{"type": "add_tags", "tags": ["hot"]}],
            },
        )
    number = create(desk, group="Support").number
    login(client, "agent@example.com")
    page = unescape(client.get(f"/agent/tickets/{number}").text)
    assert "Urgent printers" in page
    assert "not met: priority is 'urgent' (was 'normal')" in page


def test_personal_macros_are_written_with_a_short_form(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    login(client, "agent@example.com")
    page = "/agent/macros/"
    bad = post(client, page, {"name": "", "body": "x"}, page=page)
    assert bad.status_code == 422
    assert "Name:" in unescape(bad.text)
    response = post(
        client,
        page,
        {
            "name": "Need logs",
            "body": "Please send the logs.",
            "visibility": "public",
            "status": "pending",
            "add_tags": "logs, waiting",
        },
        page=page,
    )
    assert response.status_code == 302
    with desk.db.reading() as session:
        macro = session.query(Macro).one()
        assert macro.owner_id == team["agent"].id
        assert macro.actions == [
            {"type": "set", "field": "status", "value": "pending"},
            {"type": "add_tags", "tags": ["logs", "waiting"]},
        ]
    number = create(desk, group="Support").number
    assert "Need logs (mine)" in client.get(f"/agent/tickets/{number}").text
    edit = client.get(f"/agent/macros/{macro.id}").text
    assert 'value="logs, waiting"' in edit
    post(
        client,
        f"/agent/macros/{macro.id}",
        {"name": "Need logs", "body": "Logs, please.", "visibility": "internal"},
        page=page,
    )
    with desk.db.reading() as session:
        assert session.get(Macro, macro.id).public is False
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "net@example.com")
    assert client.get(f"/agent/macros/{macro.id}").status_code == 404, "someone else's macro"
    assert post(client, f"/agent/macros/{macro.id}/delete", {}, page=page).status_code == 404, "not asked"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "agent@example.com")
    assert 'data-confirm="Delete your macro “Need logs”?' in unescape(client.get(page).text)
    asked = post(client, f"/agent/macros/{macro.id}/delete", {}, page=page)
    assert asked.status_code == 200
    assert "Delete macro “Need logs”?" in unescape(asked.text)
    assert post(client, f"/agent/macros/{macro.id}/delete", {"confirm": "yes"}, page=page).status_code == 302
    with desk.db.reading() as session:
        assert session.query(Macro).count() == 0


def test_shared_macros_are_not_edited_here(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    macro = shared_macro(desk, name="Shared", body="Hello")
    login(client, "agent@example.com")
    assert "Shared" in client.get("/agent/macros/").text
    assert client.get(f"/agent/macros/{macro}").status_code == 404


def test_the_bell_counts_unread_notifications_and_opens_the_ticket(
    client: Any, desk: Desk, team: dict[str, Any]
) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        automation.create_rule(
            uow,
            {
                "name": "Tell the assignee",
                "events": ["ticket.created"],
                "actions": [{"type": "notify", "to": ["assignee"], "template": "ticket.assigned"}],
            },
        )
    number = create(desk, group="Support", assignee="agent@example.com").number
    login(client, "agent@example.com")
    home = client.get("/agent/").text
    assert re.search(r'id="unread-count">1<', home)
    listing = client.get("/notifications/").text
    assert f"[#{number}] Assigned to you: Printer jammed" in unescape(listing)
    opened = post(
        client,
        "/notifications/read",
        {"id": _first_id(listing), "next": f"/agent/tickets/{number}"},
        page="/notifications/",
    )
    assert opened.headers["Location"] == f"/agent/tickets/{number}"
    assert 'id="unread-count"' not in client.get("/agent/").text
    assert (
        post(client, "/notifications/read", {"next": "https://evil.example/"}, page="/notifications/").headers[
            "Location"
        ]
        == "/notifications/"
    )


def _first_id(html: str) -> str:
    match = re.search(r'name="id" value="(\d+)"', html)
    assert match
    return match.group(1)


# Saved views


def test_an_agent_saves_the_list_they_filtered_as_a_view(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    urgent = create(desk, subject="Server room flooded", group="Support").number
    update(desk, urgent, priority="urgent")
    create(desk, subject="Mouse squeaks", group="Support")
    login(client, "agent@example.com")
    response = post(
        client,
        "/agent/saved",
        {"base": "group-1", "priority": "urgent", "name": "Support urgent", "columns": ["subject", "priority"]},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert rail(page)["Support urgent"] == 1
    assert listed(page) == [urgent]
    head = page[page.index("<thead") : page.index("</thead>")]
    assert "Subject" in head
    assert "Requester" not in head, "the view shows the columns chosen"
    assert "My views" in page

    duplicate = post(client, "/agent/saved", {"base": "mine", "name": "support URGENT", "columns": ["subject"]})
    assert duplicate.status_code == 422
    assert "exists already" in unescape(duplicate.text)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "net@example.com")
    view_path = response.headers["Location"]
    assert client.get(view_path).status_code == 404, "someone else's view"
    assert post(client, f"{view_path}/delete", {}).status_code == 404, "not asked"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "agent@example.com")
    assert 'data-confirm="Remove the view “Support urgent”?' in unescape(client.get(view_path).text)
    asked = post(client, f"{view_path}/delete", {})
    assert asked.status_code == 200
    assert "Remove view “Support urgent”?" in unescape(asked.text)
    assert "Support urgent" in rail(client.get("/agent/").text)
    removed = post(client, f"{view_path}/delete", {"confirm": "yes"})
    assert removed.status_code == 302
    assert "Support urgent" not in rail(client.get("/agent/").text)


def test_admins_share_views_with_every_agent(client: Any, desk: Desk, team: dict[str, Any]) -> None:
    login(client, "admin@example.com")
    post(client, "/agent/saved", {"base": "all", "tag": "vip", "name": "VIP", "shared": "yes", "columns": ["subject"]})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, "agent@example.com")
    page = client.get("/agent/").text
    assert "Shared views" in page
    assert "VIP" in rail(page)
    refused = post(client, "/agent/saved", {"base": "all", "name": "Mine too", "shared": "yes", "columns": ["subject"]})
    assert refused.status_code == 403
    with desk.db.reading() as session:
        shared = session.scalars(select(SavedView.id).filter_by(name="VIP")).one()
    assert post(client, f"/agent/saved/{shared}/delete", {}).status_code == 403, "refused, not asked"
