"""Property-based checks of the whole API against its own OpenAPI document (schemathesis).

Every documented operation is called with generated data, as an agent and as a requester: no
answer may be a server error, and every answer must match what the document promises.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tickets, tokens

pytestmark = pytest.mark.slow


@pytest.fixture
def api_world(desk: Desk) -> dict[str, str]:
    """A small desk with a ticket, and bearer tokens for an agent and a requester."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_user(uow, {"email": "agent@example.com", "name": "Agent", "role": "agent", "groups": ["Support"]})
        people.create_user(uow, {"email": "rita@example.com", "name": "Rita"})
        tickets.create_ticket(uow, {"subject": "Printer", "requester": "rita@example.com", "group": "Support"})
    secrets = {}
    for who in ("agent@example.com", "rita@example.com"):
        with desk.action(SYSTEM, source="test") as uow:
            secrets[who] = tokens.create_token(uow, {"user": who, "scope": "write"})[1]
    return secrets


# ignored_auth: our valid token replaces the credentials schemathesis makes up.
# positive_data_acceptance: names of statuses, groups or cursors are free text in the document but are
# checked against the desk's data, so a well-formed but unknown value is rightly a 422.
SKIPPED_CHECKS = [ignored_auth, positive_data_acceptance]

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def check_every_operation(app: Any, token: str) -> int:
    """Call every documented operation with generated data; return how many operations were checked."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @SETTINGS
        def check(case: Any) -> None:
            # buffered: the answer is read and closed at once, as a server would (a file download stays open otherwise).
            response = case.call(headers={"Authorization": f"Bearer {token}"}, buffered=True)
            case.validate_response(response, excluded_checks=SKIPPED_CHECKS)

        check()
        checked += 1
    return checked


def test_api_as_an_agent(app: Any, api_world: dict[str, str]) -> None:
    assert check_every_operation(app, api_world["agent@example.com"]) >= 10


def test_api_as_a_requester(app: Any, api_world: dict[str, str]) -> None:
    assert check_every_operation(app, api_world["rita@example.com"]) >= 10
