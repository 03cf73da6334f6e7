"""``frontdesk ticket`` and ``frontdesk demo``: tickets from the shell, with one-line errors and exit code 1."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.demo import make_demo
from frontdesk.models import Comment, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.services.passwords import check_credentials


@pytest.fixture
def people(cli: Any, make_user: Any) -> dict[str, Any]:
    """A Support group with one agent, another agent outside it, and a requester."""
    assert cli("group", "create", "Support").exit_code == 0
    assert cli("group", "create", "Network").exit_code == 0
    return {
        "agent": make_user(email="agent@example.com", name="Ann Agent", role="agent", groups=["Support"]),
        "other": make_user(email="net@example.com", name="Nat Net", role="agent", groups=["Network"]),
        "requester": make_user(email="req@example.com", name="Rob Requester"),
    }


def create(cli: Any, subject: str = "Printer jammed", *options: str) -> int:
    result = cli("ticket", "create", "--subject", subject, "--requester", "req@example.com", *options)
    assert result.exit_code == 0, result.output
    return int(result.output)


def details(cli: Any, number: int) -> dict[str, Any]:
    result = cli("ticket", "show", str(number), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def listed(cli: Any, *options: str) -> list[int]:
    result = cli("ticket", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return [t["number"] for t in json.loads(result.output)["tickets"]]


def test_create_prints_only_the_number(cli: Any, people: dict[str, Any]) -> None:
    result = cli("ticket", "create", "--subject", "VPN down", "--requester", "req@example.com")
    assert (result.exit_code, result.output) == (0, "1\n")
    full = cli(
        "ticket", "create", "--subject", "Laptop broken", "--requester", "new@example.com", "--body", "It is dead.",
        "--priority", "high", "--type", "incident", "--tag", "Laptop", "--tag", "vip", "--group", "support",
        "--assignee", "agent@example.com", "--cc", "req@example.com",
    )  # fmt: skip
    assert (full.exit_code, full.output) == (0, "2\n")
    ticket = details(cli, 2)
    assert ticket["requester"]["email"] == "new@example.com"  # unknown requesters are created
    assert (ticket["priority"], ticket["type"], ticket["group"]) == ("high", "incident", "Support")
    assert ticket["assignee"]["email"] == "agent@example.com"
    assert (ticket["tags"], ticket["ccs"]) == (["laptop", "vip"], ["req@example.com"])
    assert (ticket["description"], ticket["channel"], ticket["status"]) == ("<p>It is dead.</p>", "cli", "new")


def test_list_prints_a_table(cli: Any, people: dict[str, Any]) -> None:
    create(cli, "Printer jammed", "--group", "Support", "--assignee", "agent@example.com", "--priority", "high")
    create(cli, "A very long subject that goes on and on about the broken coffee machine")
    lines = cli("ticket", "list").output.splitlines()
    assert lines[0].split() == ["NUMBER", "STATUS", "PRIORITY", "GROUP", "ASSIGNEE", "REQUESTER", "SUBJECT"]
    assert lines[1].split()[:4] == ["2", "new", "normal", "req@example.com"]
    assert lines[1].endswith("  A very long subject that goes on and on about t...")  # 50 characters
    assert lines[2].split() == [
        "1",
        "new",
        "high",
        "Support",
        "agent@example.com",
        "req@example.com",
        "Printer",
        "jammed",
    ]
    assert len(lines) == 3  # no "next page" line on the last page
    assert cli("ticket", "list", "--status", "solved").output == "No tickets.\n"


def test_list_json_and_filters(cli: Any, people: dict[str, Any]) -> None:
    one = create(cli, "One", "--group", "Support", "--assignee", "agent@example.com", "--tag", "printer")
    two = create(cli, "Two", "--group", "Network", "--tag", "printer", "--tag", "vip")
    three = create(cli, "Three")
    cli("ticket", "create", "--subject", "Four", "--requester", "else@example.com")
    cli("ticket", "update", str(three), "--status", "pending")
    data = json.loads(cli("ticket", "list", "--json").output)
    assert data["next_cursor"] is None
    assert [t["number"] for t in data["tickets"]] == [three, 4, two, one]  # most recently updated first
    assert data["tickets"][3]["assignee"] == {
        "email": "agent@example.com",
        "id": people["agent"].id,
        "name": "Ann Agent",
    }
    assert data["tickets"][3]["extensions"] == {}
    assert listed(cli, "--status", "pending") == [three]
    assert listed(cli, "--status", "new", "--status", "pending") == [three, 4, two, one]
    assert listed(cli, "--category", "new") == [4, two, one]
    assert listed(cli, "--tag", "printer") == [two, one]
    assert listed(cli, "--tag", "printer", "--tag", "VIP") == [two]
    assert listed(cli, "--group", "support") == [one]
    assert listed(cli, "--assignee", "agent@example.com") == [one]
    assert listed(cli, "--assignee", "none") == [three, 4, two]
    assert listed(cli, "--assignee", "me", "--as", "agent@example.com") == [one]
    assert listed(cli, "--requester", "else@example.com") == [4]
    # what an agent sees: their groups, the untriaged queue and their own tickets, never Network's
    assert listed(cli, "--as", "agent@example.com") == [three, 4, one]
    assert listed(cli, "--as", "req@example.com") == [three, two, one]


def test_list_assignee_me_needs_a_user(cli: Any, people: dict[str, Any]) -> None:
    result = cli("ticket", "list", "--assignee", "me")
    assert result.exit_code == 2
    assert "--assignee me needs --as EMAIL" in result.output


def test_cursor_pagination_returns_every_ticket_once(cli: Any, people: dict[str, Any]) -> None:
    for n in range(5):
        create(cli, f"Ticket {n}")
    seen: list[int] = []
    cursor: list[str] = []
    pages = 0
    while True:
        data = json.loads(cli("ticket", "list", "--json", "--limit", "2", *cursor).output)
        seen += [t["number"] for t in data["tickets"]]
        pages += 1
        if data["next_cursor"] is None:
            break
        cursor = ["--cursor", data["next_cursor"]]
    assert (seen, pages) == ([5, 4, 3, 2, 1], 3)
    # the table prints the cursor of the next page as its last line
    table = cli("ticket", "list", "--limit", "2").output.splitlines()
    assert [line.split()[0] for line in table[1:3]] == ["5", "4"]
    assert table[3].startswith("next page: --cursor ")
    following = cli("ticket", "list", "--limit", "2", "--cursor", table[3].split()[-1]).output.splitlines()
    assert [line.split()[0] for line in following[1:3]] == ["3", "2"]


def test_show_prints_the_ticket_with_internal_notes_marked(cli: Any, people: dict[str, Any]) -> None:
    number = create(cli, "Printer jammed", "--body", "Paper stuck.\n\nPlease help.", "--tag", "printer")
    cli("ticket", "reply", str(number), "--body", "Restart it, please.", "--as", "agent@example.com")
    cli("ticket", "reply", str(number), "--body", "Known issue with tray 2.", "--internal", "--as", "agent@example.com")
    cli("ticket", "link", str(number), str(create(cli, "Other")))
    result = cli("ticket", "show", str(number))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "#1  Printer jammed"
    assert "status:        open" in lines
    assert "requester:     Rob Requester <req@example.com>" in lines
    assert "tags:          printer" in lines
    assert "assignee:      -" in lines
    text = result.output
    assert "opened the ticket\nPaper stuck.\n\nPlease help.\n" in text
    assert "reply #1 by Ann Agent <agent@example.com>\nRestart it, please.\n" in text
    assert "[internal note] #2 by Ann Agent <agent@example.com>\nKnown issue with tray 2.\n" in text
    assert "\nLinks:\n  related #2\n" in text
    assert "agent@example.com via cli: status new -> open" in text
    assert "system via cli: links - -> kind=related, ticket=2" in text
    # a requester sees neither internal notes nor history
    own = cli("ticket", "show", str(number), "--as", "req@example.com").output
    assert "Restart it, please." in own
    assert "Known issue" not in own
    assert "History:" not in own


def test_show_json_has_comments_tags_and_history(cli: Any, people: dict[str, Any]) -> None:
    number = create(cli, "Printer jammed", "--tag", "printer", "--tag", "floor-2")
    cli("ticket", "reply", str(number), "--body", "Checking.", "--internal")
    data = details(cli, number)
    assert (data["number"], data["subject"], data["tags"]) == (number, "Printer jammed", ["floor-2", "printer"])
    assert [(c["body"], c["public"], c["author"]) for c in data["comments"]] == [("<p>Checking.</p>", False, None)]
    assert [(h["field"], h["actor"], h["source"]) for h in data["history"]] == [("created", "system", "cli")]
    assert data["links"] == []


def test_reply_public_internal_and_as_a_user(cli: Any, people: dict[str, Any], desk: Any) -> None:
    number = create(cli)
    result = cli("ticket", "reply", str(number), "--body", "We are on it.")
    assert (result.exit_code, result.output) == (0, "Added reply 1 to #1.\n")
    result = cli("ticket", "reply", str(number), "--body", "Tray 2 again.", "--internal")
    assert (result.exit_code, result.output) == (0, "Added internal note 2 to #1.\n")
    result = cli("ticket", "reply", str(number), "--body", "Thanks!", "--as", "REQ@example.com")
    assert (result.exit_code, result.output) == (0, "Added reply 3 to #1.\n")
    data = details(cli, number)
    assert [(c["public"], c["author"] and c["author"]["email"]) for c in data["comments"]] == [
        (True, None),
        (False, None),
        (True, "req@example.com"),
    ]
    assert data["status"] == "open"  # the system's public reply counts as the first response
    refused = cli("ticket", "reply", str(number), "--body", "Psst", "--internal", "--as", "req@example.com")
    assert (refused.exit_code, refused.output) == (1, "Error: only agents can add internal notes\n")
    unknown = cli("ticket", "reply", str(number), "--body", "Hi", "--as", "ghost@example.com")
    assert (unknown.exit_code, unknown.output) == (1, "Error: no user with e-mail 'ghost@example.com'\n")
    with desk.reading(SYSTEM) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Comment)) == 3


def test_update_fields_tags_and_clearing(cli: Any, people: dict[str, Any]) -> None:
    number = create(cli, "Printer jammed", "--tag", "printer", "--group", "Support")
    assert details(cli, number)["version"] == 1
    result = cli("ticket", "update", str(number), "--status", "open")
    assert (result.exit_code, result.output) == (0, "Updated #1 (version 2).\n")
    result = cli("ticket", "update", str(number), "--priority", "urgent", "--type", "incident", "--version", "2")
    version = details(cli, number)["version"]
    assert (result.exit_code, result.output) == (0, f"Updated #1 (version {version}).\n")
    result = cli("ticket", "update", str(number), "--assignee", "agent@example.com", "--add-tag", "VIP",
                 "--remove-tag", "printer", "--version", str(version))  # fmt: skip
    version = details(cli, number)["version"]
    assert (result.exit_code, result.output) == (0, f"Updated #1 (version {version}).\n")
    data = details(cli, number)
    assert (data["status"], data["priority"], data["type"]) == ("open", "urgent", "incident")
    assert (data["assignee"]["email"], data["tags"]) == ("agent@example.com", ["vip"])
    assert ("tags", ["printer"], ["vip"]) in [(h["field"], h["old"], h["new"]) for h in data["history"]]
    result = cli("ticket", "update", str(number), "--assignee", "none", "--group", "none", "--type", "none")
    data = details(cli, number)
    assert (result.exit_code, result.output) == (0, f"Updated #1 (version {data['version']}).\n")
    assert (data["assignee"], data["group"], data["type"]) == (None, None, None)
    assert ("group", "Support", None) in [(h["field"], h["old"], h["new"]) for h in data["history"]]
    assert cli("ticket", "update", str(number)).output == "Nothing to change on #1.\n"
    assert cli("ticket", "update", str(number), "--status", "open").output == "Nothing to change on #1.\n"
    assert details(cli, number)["version"] == data["version"]


def test_update_with_a_stale_version_is_refused(cli: Any, people: dict[str, Any]) -> None:
    number = create(cli)
    cli("ticket", "update", str(number), "--priority", "high")
    result = cli("ticket", "update", str(number), "--priority", "low", "--version", "1")
    assert result.exit_code == 1
    assert result.output == (
        "Error: ticket #1 was changed by someone else (now version 2, yours 1); reload it and apply your change again\n"
    )
    assert details(cli, number)["priority"] == "high"


def test_update_as_a_requester(cli: Any, people: dict[str, Any]) -> None:
    number = create(cli)
    solved = cli("ticket", "update", str(number), "--status", "solved", "--as", "req@example.com")
    assert (solved.exit_code, solved.output) == (0, "Updated #1 (version 2).\n")
    refused = cli("ticket", "update", str(number), "--priority", "high", "--as", "req@example.com")
    assert (refused.exit_code, refused.output) == (1, "Error: only agents can change priority\n")


def test_merge_link_and_unlink(cli: Any, people: dict[str, Any]) -> None:
    first, second, third = create(cli, "Printer"), create(cli, "Printer again"), create(cli, "Toner")
    result = cli("ticket", "link", str(first), str(third), "--kind", "parent")
    assert (result.exit_code, result.output) == (0, "Linked #1 to #3 (parent).\n")
    assert details(cli, third)["links"] == [{"kind": "child_of", "ticket": 1}]
    again = cli("ticket", "link", str(third), str(first), "--kind", "parent")
    assert (again.exit_code, again.output) == (1, "Error: tickets #3 and #1 are already linked as parent\n")
    result = cli("ticket", "unlink", str(first), str(third))
    assert (result.exit_code, result.output) == (0, "Removed 1 link between #1 and #3.\n")
    assert details(cli, first)["links"] == []
    result = cli("ticket", "merge", str(second), "--into", str(first))
    assert (result.exit_code, result.output) == (0, "Merged #2 into #1.\n")
    merged = details(cli, second)
    assert (merged["status"], merged["merged_into"]) == ("closed", first)
    assert merged["links"] == [{"kind": "merged_into", "ticket": 1}]
    survivor = details(cli, first)
    assert survivor["links"] == [{"kind": "merged_from", "ticket": 2}]
    assert survivor["comments"][0]["body"].startswith("<p>Merged from #2: Printer again</p>")
    assert "merged into:   #1" in cli("ticket", "show", str(second)).output.splitlines()
    bad_kind = cli("ticket", "link", "1", "3", "--kind", "merged")
    assert bad_kind.exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ticket", "show", "999"), "Error: ticket #999 not found"),
        (("ticket", "update", "999", "--status", "open"), "Error: ticket #999 not found"),
        (("ticket", "update", "999"), "Error: ticket #999 not found"),
        (("ticket", "reply", "999", "--body", "Hi"), "Error: ticket #999 not found"),
        (("ticket", "merge", "1", "--into", "999"), "Error: ticket #999 not found"),
        (("ticket", "link", "1", "1"), "Error: other: a ticket cannot be linked to itself"),
        (("ticket", "unlink", "1", "2"), "Error: tickets #1 and #2 are not linked"),
        (
            ("ticket", "create", "--subject", "Hi", "--requester", "nope"),
            "Error: requester: Not a valid email address.",
        ),
        (("ticket", "create", "--subject", " ", "--requester", "a@example.com"), "Error: subject: Must not be blank."),
        (
            ("ticket", "create", "--subject", "Hi", "--requester", "a@example.com", "--priority", "asap"),
            "Error: priority: no priority named 'asap' (priorities: low, normal, high, urgent)",
        ),
        (
            ("ticket", "create", "--subject", "Hi", "--requester", "a@example.com", "--assignee", "req@example.com"),
            "Error: assignee: req@example.com is not an active agent",
        ),
        (
            ("ticket", "update", "1", "--group", "Network", "--assignee", "agent@example.com"),
            "Error: assignee: agent@example.com is not a member of group 'Network'",
        ),
        (("ticket", "update", "2", "--status", "new"), "Error: status: ticket #2 cannot go back to 'new'"),
        (
            ("ticket", "update", "1", "--status", "later"),
            "Error: status: no status named 'later' (statuses: new, open, pending, on-hold, solved, closed)",
        ),
        (
            ("ticket", "update", "1", "--add-tag", "no spaces!"),
            "Error: tags: 'no spaces!' is not a valid tag (letters, digits and - _ . : / + #, 50 at most)",
        ),
        (
            ("ticket", "update", "3", "--priority", "high"),
            "Error: ticket #3 is closed and cannot change; open a follow-up ticket instead",
        ),
        (
            ("ticket", "reply", "3", "--body", "Hello?"),
            "Error: ticket #3 is closed and cannot change; open a follow-up ticket instead",
        ),
        (("ticket", "reply", "1", "--body", "  "), "Error: body: Must not be blank."),
        (("ticket", "list", "--limit", "0"), "Error: limit: between 1 and 200"),
        (("ticket", "list", "--cursor", "garbage"), "Error: cursor: not a cursor this desk handed out for this sort"),
    ],
)  # fmt: skip
def test_errors_are_one_line_with_exit_code_1(
    cli: Any, people: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    create(cli, "New one")
    cli("ticket", "update", str(create(cli, "Open one")), "--status", "open")
    cli("ticket", "update", str(create(cli, "Closed one")), "--status", "closed")
    result = cli(*args)
    assert (result.exit_code, result.output) == (1, message + "\n")


def test_demo_creates_tickets_people_and_a_summary(cli: Any, desk: Any) -> None:
    result = cli("demo", "--tickets", "30")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Creating demo tickets")
    with desk.reading(SYSTEM) as uow:
        tickets = uow.session.scalar(select(func.count()).select_from(Ticket))
        made = uow.session.scalar(select(func.count()).select_from(Comment))
        users = uow.session.scalar(select(func.count()).select_from(User))
    assert tickets == 30
    assert made > 0
    assert lines[-2] == f"Created 30 tickets with {made} comments for 7 requesters, 10 agents in 4 groups."
    assert lines[-1] == (
        "Sign in as an agent, e.g. anna@demo.frontdesk.test, or as the requester mia.schmidt@acme.test, "
        "with the password 'demo-password'."
    )
    shown = json.loads(cli("ticket", "list", "--json", "--limit", "200").output)["tickets"]
    assert len({t["status"] for t in shown}) >= 4
    assert len({t["group"] for t in shown}) >= 3
    assert {t["requester"]["email"].split("@")[1] for t in shown} <= {
        "acme.test",
        "northwind.test",
        "globex.test",
        "mail.test",
    }
    # the agents sign in with the demo password and see their queue: Service Desk, untriaged and their own
    with desk.action(SYSTEM, source="test") as uow:
        assert check_credentials(uow.session, "anna@demo.frontdesk.test", "demo-password") is not None
        assert check_credentials(uow.session, "mia.schmidt@acme.test", "demo-password") is not None
    agent_view = cli("ticket", "list", "--json", "--as", "anna@demo.frontdesk.test", "--limit", "200").output
    queue = json.loads(agent_view)["tickets"]
    assert queue
    for ticket in queue:
        mine = ticket["assignee"] and ticket["assignee"]["email"] == "anna@demo.frontdesk.test"
        assert ticket["group"] in ("Service Desk", None) or mine
    # running it again reuses the people and adds tickets
    again = cli("demo", "--tickets", "5", "--seed", "8")
    assert again.exit_code == 0, again.output
    with desk.reading(SYSTEM) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 35
        assert uow.session.scalar(select(func.count()).select_from(User)) == users


def test_demo_is_deterministic(cli: Any, desk: Any) -> None:
    calls: list[int] = []
    summary = make_demo(desk, 8, seed=3, progress=calls.append)
    assert calls == [1] * 8
    first = [
        (t["subject"], t["status"], t["tags"]) for t in json.loads(cli("ticket", "list", "--json").output)["tickets"]
    ]
    make_demo(desk, 8, seed=3)
    both = [
        (t["subject"], t["status"], t["tags"])
        for t in json.loads(cli("ticket", "list", "--json", "--limit", "16").output)["tickets"]
    ]
    assert both[:8] == first  # the second run made the same eight tickets again
    assert (summary.tickets, summary.requesters, summary.agents, summary.groups, summary.organizations) == (
        8,
        2,
        10,
        4,
        3,
    )


def test_events_commands(cli: Any, desk: Any) -> None:
    assert cli("events", "status").output.split() == ["pending", "0", "delivered", "0", "failed", "0"]
    cli("ticket", "create", "--subject", "Outbox", "--requester", "r@example.com")
    assert "delivered  1" in cli("events", "status").output
    assert cli("events", "dispatch").output.strip() == "Delivered 0, retrying 0, failed 0, waiting 0."
    assert cli("events", "failed").output.strip() == "No failed events."
    assert cli("events", "failed", "--json").output.strip() == "[]"
