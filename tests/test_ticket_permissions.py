"""Who may see and do what with tickets: the permission matrix, enforced in the service layer."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.errors import FrontdeskError, NotFound, PermissionDenied
from frontdesk.permissions import SYSTEM
from frontdesk.queries import TicketFilter, list_tickets, ticket_details
from frontdesk.search import search
from frontdesk.services import comments, links, people, tickets

ACTORS = (
    "admin",
    "agent",
    "agent_all",
    "agent_other",
    "owner",
    "colleague_shared",
    "colleague_private",
    "copied",
    "stranger",
    "anonymous",
)


@pytest.fixture
def world(desk: Desk, make_user: Any) -> dict[str, Any]:
    """Support/Network groups; ACME shares tickets within the organization, Beta does not."""
    with desk.action(SYSTEM, source="test") as uow:
        for group in ("Support", "Network"):
            people.create_group(uow, {"name": group})
        people.create_organization(uow, {"name": "ACME", "shared": True})
        people.create_organization(uow, {"name": "Beta", "shared": False})
    actors: dict[str, Any] = {
        "admin": make_user(role="admin"),
        "agent": make_user(role="agent", groups=["Support"]),
        "agent_all": make_user(role="agent", all_groups=True),
        "agent_other": make_user(role="agent", groups=["Network"]),
        "owner": make_user(email="owner@acme.example", organization="ACME"),
        "colleague_shared": make_user(organization="ACME"),
        "beta_owner": make_user(email="owner@beta.example", organization="Beta"),
        "colleague_private": make_user(organization="Beta"),
        "copied": make_user(email="copied@example.com"),
        "stranger": make_user(),
        "anonymous": None,
    }
    numbers = {}
    for key, requester, group, ccs in (
        ("support", "owner@acme.example", "Support", ["copied@example.com"]),
        ("network", "owner@beta.example", "Network", []),
        ("triage", "owner@acme.example", None, []),
    ):
        with desk.action(SYSTEM, source="test") as uow:
            numbers[key] = tickets.create_ticket(
                uow, {"subject": f"{key} ticket", "requester": requester, "group": group, "ccs": ccs}
            ).number
    return {"actors": actors, "tickets": numbers}


VISIBLE = {
    "admin": {"support", "network", "triage"},
    "agent": {"support", "triage"},
    "agent_all": {"support", "network", "triage"},
    "agent_other": {"network", "triage"},
    "owner": {"support", "triage"},
    "colleague_shared": {"support", "triage"},
    "colleague_private": set(),
    "copied": {"support"},
    "stranger": set(),
    "anonymous": set(),
}


@pytest.mark.parametrize("actor", ACTORS)
def test_visibility_matrix(desk: Desk, world: dict[str, Any], actor: str) -> None:
    user = world["actors"][actor]
    numbers = world["tickets"]
    expected = {numbers[key] for key in VISIBLE[actor]}
    with desk.reading(user) as uow:
        listed = {t.number for t in list_tickets(uow, TicketFilter()).items}
        searched = {hit.ticket_id for hit in search(uow, "ticket")}
    assert listed == expected
    assert searched == expected
    for key, number in numbers.items():
        with desk.reading(user) as uow:
            if key in VISIBLE[actor]:
                assert ticket_details(uow, number)["number"] == number
            else:
                with pytest.raises(NotFound):
                    ticket_details(uow, number)


# Expected outcome of each action on the Support ticket: "ok", or the error class raised.
ACTIONS: dict[str, dict[str, Any]] = {
    "reply": {
        "admin": "ok", "agent": "ok", "agent_all": "ok", "agent_other": NotFound, "owner": "ok",
        "colleague_shared": "ok", "colleague_private": NotFound, "copied": "ok", "stranger": NotFound,
        "anonymous": PermissionDenied,
    },
    "note": {
        "admin": "ok", "agent": "ok", "agent_all": "ok", "agent_other": NotFound, "owner": PermissionDenied,
        "colleague_shared": PermissionDenied, "colleague_private": NotFound, "copied": PermissionDenied,
        "stranger": NotFound, "anonymous": PermissionDenied,
    },
    "priority": {
        "admin": "ok", "agent": "ok", "agent_all": "ok", "agent_other": NotFound, "owner": PermissionDenied,
        "colleague_shared": PermissionDenied, "colleague_private": NotFound, "copied": PermissionDenied,
        "stranger": NotFound, "anonymous": NotFound,
    },
    "solve": {
        "admin": "ok", "agent": "ok", "agent_all": "ok", "agent_other": NotFound, "owner": "ok",
        "colleague_shared": PermissionDenied, "colleague_private": NotFound, "copied": PermissionDenied,
        "stranger": NotFound, "anonymous": NotFound,
    },
    "link": {
        "admin": "ok", "agent": "ok", "agent_all": "ok", "agent_other": NotFound, "owner": PermissionDenied,
        "colleague_shared": PermissionDenied, "colleague_private": PermissionDenied, "copied": PermissionDenied,
        "stranger": PermissionDenied, "anonymous": PermissionDenied,
    },
}  # fmt: skip


def perform(desk: Desk, user: Any, action: str, number: int, other: int) -> None:
    with desk.action(user, source="test") as uow:
        if action == "reply":
            comments.add_comment(uow, number, {"body": "Any news?"})
        elif action == "note":
            comments.add_comment(uow, number, {"body": "Internal", "public": False})
        elif action == "priority":
            tickets.update_ticket(uow, number, {"priority": "urgent"})
        elif action == "solve":
            tickets.update_ticket(uow, number, {"status": "solved"})
        elif action == "link":
            links.link_tickets(uow, number, other, "related")


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("actor", ACTORS)
def test_action_matrix(desk: Desk, world: dict[str, Any], actor: str, action: str) -> None:
    user = world["actors"][actor]
    expected = ACTIONS[action][actor]
    number, other = world["tickets"]["support"], world["tickets"]["triage"]
    if expected == "ok":
        perform(desk, user, action, number, other)
    else:
        with pytest.raises(FrontdeskError) as caught:
            perform(desk, user, action, number, other)
        assert type(caught.value) is expected
        with desk.reading(SYSTEM) as uow:
            shown = ticket_details(uow, number)
        assert (shown["version"], shown["comments"], shown["links"]) == (1, [], []), "a refused action writes nothing"


def test_inactive_users_lose_access(desk: Desk, world: dict[str, Any]) -> None:
    agent = world["actors"]["agent"]
    agent.active = False
    with desk.reading(agent) as uow:
        assert list_tickets(uow, TicketFilter()).items == []
