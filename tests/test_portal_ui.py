"""The requester portal through the Flask test client: lists, new requests, the thread, replies, solve and reopen."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import pytest
from markupsafe import Markup
from sqlalchemy import select

from frontdesk import hookimpl, queries
from frontdesk.desk import Desk
from frontdesk.models import Attachment, Comment, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, people, tickets
from frontdesk.storage import Upload
from frontdesk_webui import portal

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def csrf_token(client: Any, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def login(client: Any, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": "password123", "csrf_token": csrf_token(client)})
    assert response.status_code == 302, f"{email} signs in"


def file_request(desk: Desk, user: User, subject: str, body: str = "Please help.") -> int:
    with desk.action(user, source="test") as uow:
        return tickets.create_ticket(uow, {"subject": subject, "body": body}).number


def set_status(desk: Desk, number: int, status: str) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, number, {"status": status})


def comment(
    desk: Desk, actor: Any, number: int, body: str, *, public: bool = True, files: tuple[Upload, ...] = ()
) -> None:
    with desk.action(actor, source="test") as uow:
        comments.add_comment(uow, number, {"body": body, "public": public}, files)


def subjects(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'class="portal-request-link[^"]*"\s+href="[^"]+">([^<]*)</a>', html)]


def ticket_row(desk: Desk, number: int) -> Ticket:
    with desk.db.sessionmaker() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


@pytest.fixture
def rita(make_user: Any) -> User:
    return make_user(email="rita@example.com", name="Rita Requester")


@pytest.fixture
def agent(make_user: Any) -> User:
    return make_user(email="agnes@example.com", name="Agnes Agent", role="agent")


@pytest.fixture
def signed_in(client: Any, rita: User) -> Any:
    login(client, rita.email)
    return client


# --- Access -----------------------------------------------------------------------------------


def test_the_portal_needs_a_signed_in_user(client: Any) -> None:
    for path in ("/portal/", "/portal/new", "/portal/requests/1"):
        assert client.get(path).headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_staff_visiting_the_portal_go_to_the_agent_workspace(client: Any, make_user: Any, role: str) -> None:
    make_user(email="staff@example.com", role=role)
    login(client, "staff@example.com")
    for path in ("/portal/", "/portal/new", "/portal/requests/1"):
        response = client.get(path)
        assert (response.status_code, response.headers["Location"]) == (302, "/agent/")


def test_someone_elses_request_is_not_found(signed_in: Any, desk: Desk, make_user: Any) -> None:
    other = make_user(email="otto@example.com")
    number = file_request(desk, other, "Otto's printer")
    token = csrf_token(signed_in, "/portal/new")
    page = signed_in.get(f"/portal/requests/{number}")
    assert page.status_code == 404
    assert "Otto" not in page.text
    assert signed_in.get("/portal/requests/999999").status_code == 404
    assert signed_in.get(f"/portal/requests/{2**63}").status_code == 404
    reply = signed_in.post(f"/portal/requests/{number}/reply", data={"body": "mine now", "csrf_token": token})
    assert reply.status_code == 404
    solve = signed_in.post(f"/portal/requests/{number}/status", data={"action": "solve", "csrf_token": token})
    assert solve.status_code == 404
    assert ticket_row(desk, number).status_category == "new"


def test_every_portal_form_needs_the_csrf_token(signed_in: Any, desk: Desk, rita: User) -> None:
    number = file_request(desk, rita, "VPN drops")
    assert signed_in.post("/portal/new", data={"subject": "x", "body": "y"}).status_code == 400
    assert signed_in.post(f"/portal/requests/{number}/reply", data={"body": "hello"}).status_code == 400
    assert signed_in.post(f"/portal/requests/{number}/status", data={"action": "solve"}).status_code == 400
    page = signed_in.get(f"/portal/requests/{number}").text
    assert page.count('name="csrf_token"') == 3, "sign out, reply, solve"
    with desk.db.sessionmaker() as session:
        assert session.scalar(select(Comment.id)) is None


# --- My requests ------------------------------------------------------------------------------


def test_my_requests_lists_own_requests_newest_update_first_with_plain_status(
    signed_in: Any, desk: Desk, rita: User, agent: User, make_user: Any
) -> None:
    first = file_request(desk, rita, "Laptop is slow")
    second = file_request(desk, rita, "Need a new mouse")
    third = file_request(desk, rita, "Printer jam")
    fourth = file_request(desk, rita, "Old request")
    file_request(desk, make_user(email="otto@example.com"), "Otto's secret")
    comment(desk, agent, second, "Which model?")  # an agent's reply opens it
    set_status(desk, second, "pending")
    set_status(desk, third, "solved")
    set_status(desk, fourth, "closed")
    comment(desk, agent, first, "Looking into it")  # updated last

    page = signed_in.get("/portal/")
    assert page.status_code == 200
    assert subjects(page.text) == ["Laptop is slow", "Old request", "Printer jam", "Need a new mouse"]
    words = re.findall(r'portal-status portal-status-(\w+)">([^<]+)<', page.text)
    assert words == [
        ("open", "Open"),
        ("closed", "Closed"),
        ("solved", "Solved"),
        ("pending", "Waiting for your reply"),
    ]
    assert "Otto" not in page.text
    assert 'href="/portal/new">New request</a>' in page.text
    assert "Shared in" not in page.text
    assert '<link rel="stylesheet" href="/static/portal.css">' in page.text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page.text
    stylesheet = signed_in.get("/static/portal.css")
    assert stylesheet.status_code == 200
    stylesheet.close()


def test_a_new_ticket_reads_open(signed_in: Any, desk: Desk, rita: User) -> None:
    file_request(desk, rita, "Brand new")
    assert ">Open</span>" in signed_in.get("/portal/").text


def test_my_requests_has_an_empty_state(signed_in: Any) -> None:
    page = signed_in.get("/portal/").text
    assert "You have not submitted any requests yet." in page
    assert "Older requests" not in page


def test_my_requests_pages_with_a_cursor(
    signed_in: Any, desk: Desk, rita: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal, "PAGE_SIZE", 2)
    for n in range(5):
        file_request(desk, rita, f"Request {n}")
    seen: list[str] = []
    path = "/portal/"
    while True:
        page = signed_in.get(path).text
        seen += subjects(page)
        older = re.search(r'href="([^"]+)">Older requests</a>', page)
        if older is None:
            break
        assert ">Newest</a>" in page or path == "/portal/"
        path = unescape(older.group(1))
    assert seen == [f"Request {n}" for n in (4, 3, 2, 1, 0)]
    assert signed_in.get("/portal/?cursor=not-a-cursor").status_code == 422


def test_shared_organization_requests_are_listed_separately(
    client: Any, desk: Desk, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_organization(uow, {"name": "Acme", "shared": True})
        people.create_organization(uow, {"name": "Private Ltd", "shared": False})
    ann = make_user(email="ann@example.com", name="Ann Acme", organization="Acme")
    bob = make_user(email="bob@example.com", name="Bob Acme", organization="Acme")
    pia = make_user(email="pia@example.com", name="Pia Private", organization="Private Ltd")
    paul = make_user(email="paul@example.com", name="Paul Private", organization="Private Ltd")
    file_request(desk, ann, "Ann's own")
    bobs = file_request(desk, bob, "Bob's keyboard")
    file_request(desk, paul, "Paul's phone")

    login(client, ann.email)
    page = client.get("/portal/").text
    mine, shared = page.split("Shared in Acme")
    assert subjects(mine) == ["Ann's own"]
    assert subjects(shared) == ["Bob's keyboard"]
    assert "Bob Acme" in shared
    set_status(desk, bobs, "pending")
    assert ">Waiting for a reply</span>" in client.get("/portal/").text, "it is Bob's turn, not Ann's"
    request_page = client.get(f"/portal/requests/{bobs}")
    assert request_page.status_code == 200
    assert "Mark as solved" not in request_page.text, "only the requester solves a request"
    assert 'name="body"' in request_page.text, "colleagues may add information"
    token = csrf_token(client, "/portal/new")
    refused = client.post(f"/portal/requests/{bobs}/status", data={"action": "solve", "csrf_token": token})
    assert refused.status_code == 403
    assert ticket_row(desk, bobs).status_category == "pending"

    monkeypatch.setattr(portal, "PAGE_SIZE", 1)
    for n in range(3):
        file_request(desk, bob, f"Bob {n}")
        file_request(desk, ann, f"Ann {n}")
    seen: list[str] = []
    path = "/portal/"
    while path:
        shared_part = client.get(path).text.split("Shared in Acme")[1]
        seen += subjects(shared_part)
        older = re.search(r'href="([^"]+)">Older shared requests</a>', shared_part)
        path = unescape(older.group(1)) if older else ""
    assert seen == ["Bob 2", "Bob 1", "Bob 0", "Bob's keyboard"], "pages skip the user's own requests"

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(client, pia.email)
    page = client.get("/portal/").text
    assert "Shared in" not in page
    assert "Paul" not in page


# --- A new request ----------------------------------------------------------------------------


def test_the_new_request_form_has_labelled_fields(signed_in: Any) -> None:
    page = signed_in.get("/portal/new")
    assert page.status_code == 200
    html = page.text
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrf_token"' in html
    for field in ("subject", "body", "attachments"):
        assert f'<label class="form-label" for="{field}">' in html
        assert f'id="{field}" name="{field}"' in html
    assert 'type="file" multiple' in html


def test_submitting_a_request_with_files_files_a_portal_ticket(signed_in: Any, desk: Desk, rita: User) -> None:
    token = csrf_token(signed_in, "/portal/new")
    response = signed_in.post(
        "/portal/new",
        data={
            "csrf_token": token,
            "subject": "Screen flickers",
            "body": "Since Monday.\n\n<b>Not bold</b>",
            "attachments": [(io.BytesIO(PNG), "screen.png"), (io.BytesIO(b"log line"), "app.log")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    number = int(response.headers["Location"].rsplit("/", 1)[1])
    ticket = ticket_row(desk, number)
    assert (ticket.subject, ticket.requester_id, ticket.channel) == ("Screen flickers", rita.id, "portal")
    with desk.db.sessionmaker() as session:
        files = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(f.filename, f.content_type) for f in files] == [("screen.png", "image/png"), ("app.log", "text/plain")]
        first = session.scalars(select(Comment).where(Comment.ticket_id == number)).one()
        assert first.public
        assert first.author_id == rita.id

    page = signed_in.get(response.headers["Location"])
    assert f"Thank you: your request #{number} was submitted." in page.text
    assert "Screen flickers" in page.text
    assert "<p>Since Monday.</p><p>&lt;b&gt;Not bold&lt;/b&gt;</p>" in page.text
    links = re.findall(r'<a href="(/api/v1/attachments/\d+)" download>', page.text)
    assert len(links) == 2
    download = signed_in.get(links[0])
    assert download.status_code == 200
    assert download.data == PNG
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    assert subjects(signed_in.get("/portal/").text) == ["Screen flickers"]


def test_a_request_without_files_has_no_first_comment(signed_in: Any, desk: Desk) -> None:
    token = csrf_token(signed_in, "/portal/new")
    response = signed_in.post(
        "/portal/new",
        data={"csrf_token": token, "subject": "Just a question", "body": "Where is the wiki?", "attachments": []},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with desk.db.sessionmaker() as session:
        assert session.scalar(select(Comment.id)) is None


def test_validation_errors_re_render_the_form_with_the_typed_values(signed_in: Any, desk: Desk) -> None:
    token = csrf_token(signed_in, "/portal/new")
    blank = signed_in.post("/portal/new", data={"csrf_token": token, "subject": "  ", "body": "It <broke> & stays"})
    assert blank.status_code == 422
    assert "Please enter a subject" in blank.text
    assert 'id="subject-error"' in blank.text
    assert 'aria-describedby="subject-error"' in blank.text
    assert "It &lt;broke&gt; &amp; stays</textarea>" in blank.text, "the description is kept, escaped"
    assert "Please describe your request" not in blank.text

    no_body = signed_in.post("/portal/new", data={"csrf_token": token, "subject": "Printer", "body": ""})
    assert no_body.status_code == 422
    assert "Please describe your request." in no_body.text
    assert 'value="Printer"' in no_body.text

    too_long = signed_in.post("/portal/new", data={"csrf_token": token, "subject": "x" * 251, "body": "text"})
    assert too_long.status_code == 422
    assert "Longer than maximum length 250." in too_long.text
    assert f'value="{"x" * 251}"' in too_long.text
    with desk.db.sessionmaker() as session:
        assert session.scalar(select(Ticket.id)) is None


def test_too_many_files_re_render_the_form_and_file_nothing(signed_in: Any, desk: Desk) -> None:
    from dataclasses import replace

    desk.config = replace(desk.config, max_attachments_per_comment=1)
    token = csrf_token(signed_in, "/portal/new")
    response = signed_in.post(
        "/portal/new",
        data={
            "csrf_token": token,
            "subject": "Two files",
            "body": "See both",
            "attachments": [(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "b.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "At most 1 files can be attached to one comment." in response.text
    assert 'value="Two files"' in response.text
    with desk.db.sessionmaker() as session:
        assert session.scalar(select(Ticket.id)) is None, "the ticket is not filed without its files"


def test_hook_validation_errors_are_shown_on_the_form(signed_in: Any, desk: Desk, register_plugin: Any) -> None:
    from frontdesk.errors import ValidationError

    class Refuser:
        @hookimpl
        def frontdesk_ticket_before_create(self, ticket: Ticket, actor: Any, uow: Any) -> None:
            raise ValidationError({"subject": ["Mention the device."], "_schema": ["Office hours only."]})

    register_plugin(Refuser(), "refuser")
    token = csrf_token(signed_in, "/portal/new")
    response = signed_in.post("/portal/new", data={"csrf_token": token, "subject": "Help", "body": "Now"})
    assert response.status_code == 422
    assert "Mention the device." in response.text
    assert "Office hours only." in response.text


# --- One request ------------------------------------------------------------------------------


def test_the_request_page_shows_the_public_thread_and_never_internal_notes(
    signed_in: Any, desk: Desk, rita: User, agent: User
) -> None:
    number = file_request(desk, rita, "Mail bounces", "Every mail to <b>sales</b> bounces.")
    comment(desk, agent, number, "Could you send the bounce message?")
    comment(
        desk,
        agent,
        number,
        "INTERNAL: the customer is on the old plan",
        public=False,
        files=(Upload("internal-notes.txt", io.BytesIO(b"secret")),),
    )
    comment(desk, rita, number, "Here it is", files=(Upload("bounce.eml.txt", io.BytesIO(b"550 no such user")),))

    page = signed_in.get(f"/portal/requests/{number}")
    assert page.status_code == 200
    html = page.text
    assert "Mail bounces" in html
    assert "Every mail to &lt;b&gt;sales&lt;/b&gt; bounces." in html
    assert "Could you send the bounce message?" in html
    assert "Support team" in html
    assert "Here it is" in html
    assert "bounce.eml.txt" in html
    assert "INTERNAL" not in html
    assert "old plan" not in html
    assert "internal-notes.txt" not in html
    assert html.index("Every mail to") < html.index("Could you send") < html.index("Here it is")
    assert 'for="reply-body"' in html
    assert "Mark as solved" in html

    with desk.reading(rita) as uow:
        bodies = [c.body for c in queries.comments_of(uow, number)]
    assert len(bodies) == 2
    assert not any("INTERNAL" in body for body in bodies), "comments_of hides internal notes from requesters"
    with desk.reading(agent) as uow:
        assert len(queries.comments_of(uow, number)) == 3, "agents see the note"


def test_user_content_is_escaped_and_stored_html_is_shown_sanitized(
    signed_in: Any, desk: Desk, rita: User, agent: User
) -> None:
    number = file_request(desk, rita, "<script>alert(1)</script> help")
    with desk.action(agent, source="test") as uow:
        comments.add_comment(
            uow,
            number,
            {
                "body": '<p>Try <a href="javascript:alert(2)">this</a><script>alert(3)</script></p>',
                "body_format": "html",
            },
            [Upload('"><img src=x onerror=alert(4)>.txt', io.BytesIO(b"x"))],
        )
    html = signed_in.get(f"/portal/requests/{number}").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; help" in html
    assert "javascript:" not in html
    assert "<p>Try <a" in html, "the stored (sanitized) HTML body is rendered as HTML"
    assert "onerror=alert(4)" not in html.replace("&#34;&gt;&lt;img src=x onerror=alert(4)&gt;", "")
    assert "&lt;img src=x onerror=alert(4)&gt;.txt" in html
    listing = signed_in.get("/portal/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; help" in listing


def test_a_reply_is_added_and_reopens_a_pending_request(signed_in: Any, desk: Desk, rita: User, agent: User) -> None:
    number = file_request(desk, rita, "Password reset")
    comment(desk, agent, number, "Which account?")
    set_status(desk, number, "pending")
    page = signed_in.get(f"/portal/requests/{number}").text
    assert "Waiting for your reply" in page
    assert "The support team is waiting for your answer" in page

    token = csrf_token(signed_in, f"/portal/requests/{number}")
    response = signed_in.post(
        f"/portal/requests/{number}/reply",
        data={"csrf_token": token, "body": "My work account", "attachments": [(io.BytesIO(PNG), "error.png")]},
        content_type="multipart/form-data",
    )
    assert (response.status_code, response.headers["Location"]) == (302, f"/portal/requests/{number}#reply")
    assert ticket_row(desk, number).status_category == "open"
    page = signed_in.get(f"/portal/requests/{number}").text
    assert "Your reply was sent." in page
    assert "My work account" in page
    assert "error.png" in page
    with desk.db.sessionmaker() as session:
        reply = session.scalars(select(Comment).order_by(Comment.id.desc())).first()
        assert reply is not None
        assert (reply.public, reply.channel, reply.author_id) == (True, "portal", rita.id)


def test_an_empty_reply_re_renders_the_page_with_a_message(signed_in: Any, desk: Desk, rita: User) -> None:
    number = file_request(desk, rita, "Coffee machine")
    token = csrf_token(signed_in, f"/portal/requests/{number}")
    response = signed_in.post(f"/portal/requests/{number}/reply", data={"csrf_token": token, "body": "   "})
    assert response.status_code == 422
    assert "Please write your reply." in response.text
    assert 'aria-describedby="body-error"' in response.text
    assert "Coffee machine" in response.text


def test_mark_as_solved_and_reopen(signed_in: Any, desk: Desk, rita: User) -> None:
    number = file_request(desk, rita, "Monitor cable")
    page = signed_in.get(f"/portal/requests/{number}").text
    token = csrf_token(signed_in, f"/portal/requests/{number}")
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]

    solved = signed_in.post(
        f"/portal/requests/{number}/status", data={"csrf_token": token, "action": "solve", "version": version}
    )
    assert solved.headers["Location"] == f"/portal/requests/{number}"
    assert ticket_row(desk, number).status_category == "solved"
    page = signed_in.get(f"/portal/requests/{number}").text
    assert "Marked as solved." in page
    assert ">Solved</span>" in page
    assert "Reopen</button>" in page
    assert "Mark as solved</button>" not in page
    assert "Replying reopens this request." in page

    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    reopened = signed_in.post(
        f"/portal/requests/{number}/status", data={"csrf_token": token, "action": "reopen", "version": version}
    )
    assert reopened.status_code == 302
    assert ticket_row(desk, number).status_category == "open"
    assert "Reopened" in signed_in.get(f"/portal/requests/{number}").text

    assert signed_in.post(f"/portal/requests/{number}/status", data={"csrf_token": token}).status_code == 400
    with desk.db.sessionmaker() as session:
        assert session.get(Ticket, number).status_category == "open"  # type: ignore[union-attr]


def test_solving_a_request_that_changed_meanwhile_asks_to_look_first(
    signed_in: Any, desk: Desk, rita: User, agent: User
) -> None:
    number = file_request(desk, rita, "Desk phone")
    page = signed_in.get(f"/portal/requests/{number}").text
    token = csrf_token(signed_in, f"/portal/requests/{number}")
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    comment(desk, agent, number, "Did you restart it?")
    response = signed_in.post(
        f"/portal/requests/{number}/status", data={"csrf_token": token, "action": "solve", "version": version}
    )
    assert response.status_code == 302
    assert ticket_row(desk, number).status_category == "open"
    assert "This request changed while you were reading it" in signed_in.get(f"/portal/requests/{number}").text


def test_a_closed_request_shows_no_forms(signed_in: Any, desk: Desk, rita: User) -> None:
    number = file_request(desk, rita, "Old laptop")
    token = csrf_token(signed_in, f"/portal/requests/{number}")
    set_status(desk, number, "closed")
    page = signed_in.get(f"/portal/requests/{number}").text
    assert ">Closed</span>" in page
    assert "This request is closed, so it cannot get new replies." in page
    assert "Send reply" not in page
    assert "Mark as solved" not in page
    assert "Reopen</button>" not in page
    assert page.count("<form") == 1, "only signing out"

    reply = signed_in.post(f"/portal/requests/{number}/reply", data={"csrf_token": token, "body": "Still broken"})
    assert reply.status_code == 302
    reopen = signed_in.post(f"/portal/requests/{number}/status", data={"csrf_token": token, "action": "reopen"})
    assert reopen.status_code == 302
    assert "Submit a new request to follow up." in signed_in.get(f"/portal/requests/{number}").text
    assert ticket_row(desk, number).status_category == "closed"
    with desk.db.sessionmaker() as session:
        assert session.scalar(select(Comment.id)) is None


class SurveyPanel:
    """A plugin adding panels to the portal's request page."""

    @hookimpl
    def frontdesk_slot_portal_request(self, ticket: Ticket, user: User) -> Any:
        return (
            10,
            Markup('<section class="card survey-panel"><p>How did we do on #{}?</p></section>').format(ticket.number),
        )


class PlainTextPanel:
    NAME = "plaintext"

    @hookimpl
    def frontdesk_slot_portal_request(self, ticket: Ticket, user: User) -> Any:
        return f"<b>{user.name}</b> sees this"


class BrokenPanel:
    NAME = "broken"

    @hookimpl
    def frontdesk_slot_portal_request(self, ticket: Ticket, user: User) -> Any:
        raise RuntimeError("panel failed")


@pytest.mark.frontdesk_plugins("webui", SurveyPanel(), PlainTextPanel(), BrokenPanel())
def test_hook_frontdesk_slot_portal_request_renders_plugin_panels(
    signed_in: Any, desk: Desk, rita: User, caplog: pytest.LogCaptureFixture
) -> None:
    number = file_request(desk, rita, "Survey me")
    page = signed_in.get(f"/portal/requests/{number}")
    assert page.status_code == 200
    html = page.text
    assert f'<section class="card survey-panel"><p>How did we do on #{number}?</p></section>' in html
    assert "&lt;b&gt;Rita Requester&lt;/b&gt; sees this" in html, "plain text is escaped"
    assert html.index("survey-panel") < html.index("sees this"), "lower weight first"
    assert 'class="portal-panels"' in html
    assert "panel failed" in caplog.text, "a failing panel is logged and left out"
