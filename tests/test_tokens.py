"""API tokens: the secret shown once, hashes only, scopes and who may create them, expiry, revocation, CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, event, select, text

from frontdesk.cli.base import CliState, FrontdeskGroup
from frontdesk.cli.tokens import token
from frontdesk.config import Config
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import NotFound, PermissionDenied, ValidationError
from frontdesk.models import ApiToken, Event, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import tokens

LISTED_FIELDS = {
    "id",
    "user",
    "name",
    "prefix",
    "scope",
    "state",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
}


def create(desk: Desk, actor: Any, **data: Any) -> tuple[ApiToken, str]:
    with desk.action(actor, source="test") as uow:
        return tokens.create_token(uow, data)


def authenticate(desk: Desk, secret: str, now: Any = None) -> tuple[User, str] | None:
    with desk.action(SYSTEM, source="test") as uow:
        return tokens.authenticate_token(uow.session, secret, now=now)


def stored(desk: Desk, token_id: int) -> ApiToken:
    with desk.db.reading() as session:
        found = session.get(ApiToken, token_id)
        assert found is not None
        return found


# Services


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(desk: Desk, make_user: Any) -> None:
    ann = make_user(email="ann@example.com")
    created, secret = create(desk, ann, name="laptop")
    assert secret.startswith("fd_")
    assert len(secret) >= 40
    assert created.prefix == secret[:8]
    assert created.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with desk.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_tokens")).mappings().all()
    assert len(rows) == 1
    assert all(secret not in str(value) for value in rows[0].values())
    assert all(secret[8:] not in str(value) for value in rows[0].values())
    user, scope = authenticate(desk, secret)
    assert (user.id, scope) == (ann.id, "read")


def test_every_token_gets_its_own_secret(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    secrets = {create(desk, ann)[1] for _ in range(5)}
    assert len(secrets) == 5


def test_creating_a_token_is_recorded_as_an_event_without_the_secret(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    created, secret = create(desk, ann, scope="write")
    with desk.db.reading() as session:
        recorded = session.scalars(select(Event).where(Event.name == "token.created")).one()
    assert recorded.payload == {"token_id": created.id, "user_id": ann.id, "scope": "write"}
    assert recorded.actor_id == ann.id
    assert secret not in json.dumps(recorded.payload)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("requester", {"read", "write"}), ("agent", {"read", "write"}), ("admin", {"read", "write", "admin"})],
)
def test_admin_scope_is_only_for_admins(desk: Desk, make_user: Any, role: str, allowed: set[str]) -> None:
    person = make_user(role=role)
    for scope in ("read", "write", "admin"):
        if scope in allowed:
            _, secret = create(desk, person, scope=scope)
            assert authenticate(desk, secret)[1] == scope
            continue
        with pytest.raises(ValidationError) as caught:
            create(desk, person, scope=scope)
        assert set(caught.value.errors) == {"scope"}
        assert "not an admin" in caught.value.message


def test_tokens_for_someone_else_need_people_manage(desk: Desk, make_user: Any) -> None:
    agent = make_user(role="agent")
    admin = make_user(role="admin")
    requester = make_user(email="req@example.com")
    with pytest.raises(PermissionDenied, match=r"people\.manage"):
        create(desk, agent, user=requester.email)
    # Naming yourself is fine, in any case.
    own, _ = create(desk, agent, user=agent.email.upper())
    assert own.user_id == agent.id
    created, secret = create(desk, admin, user="REQ@example.com", scope="write")
    assert created.user_id == requester.id
    assert authenticate(desk, secret)[0].id == requester.id
    # people.manage does not lift the owner's ceiling: a requester's token is never "admin".
    with pytest.raises(ValidationError, match="scope"):
        create(desk, admin, user=requester.email, scope="admin")
    with pytest.raises(ValidationError, match="no user with e-mail") as caught:
        create(desk, admin, user="ghost@example.com")
    assert set(caught.value.errors) == {"user"}


def test_the_system_names_the_user_and_nobody_anonymous_creates_tokens(desk: Desk, make_user: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        create(desk, SYSTEM)
    assert set(caught.value.errors) == {"user"}
    with pytest.raises(PermissionDenied):
        create(desk, None)
    admin = make_user(role="admin")
    created, _ = create(desk, SYSTEM, user=admin.email, scope="admin")
    assert created.scope == "admin"


def test_no_tokens_for_deactivated_users(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(User, ann.id).active = False
    with pytest.raises(ValidationError, match="deactivated"):
        create(desk, SYSTEM, user=ann.email)
    ann.active = False
    with pytest.raises(PermissionDenied):
        create(desk, ann)


def test_validation_names_every_bad_field(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    with pytest.raises(ValidationError) as caught:
        create(desk, ann, name=" ", scope="root", expires_in_days=0)
    assert set(caught.value.errors) == {"name", "scope", "expires_in_days"}
    for days in (3651, -1, "ten", 1.5, True):
        with pytest.raises(ValidationError) as caught:
            create(desk, ann, expires_in_days=days)
        assert set(caught.value.errors) == {"expires_in_days"}
    with pytest.raises(ValidationError) as caught:
        create(desk, ann, name="x" * 101)
    assert set(caught.value.errors) == {"name"}


def test_tokens_expire(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    before = utcnow()
    created, secret = create(desk, ann, expires_in_days=30)
    assert timedelta(days=30) <= created.expires_at - before < timedelta(days=30, minutes=1)
    assert authenticate(desk, secret, now=created.expires_at - timedelta(seconds=1)) is not None
    assert authenticate(desk, secret, now=created.expires_at) is None
    assert authenticate(desk, secret, now=created.expires_at + timedelta(days=1)) is None
    forever, forever_secret = create(desk, ann, expires_in_days=None)
    assert forever.expires_at is None
    assert authenticate(desk, forever_secret, now=utcnow() + timedelta(days=3650 * 2)) is not None


def test_revoked_tokens_are_refused_and_revoking_twice_keeps_the_first_time(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    created, secret = create(desk, ann)
    with desk.action(ann, source="test") as uow:
        first = tokens.revoke_token(uow, created.id).revoked_at
    assert first is not None
    assert authenticate(desk, secret) is None
    with desk.action(ann, source="test") as uow:
        assert tokens.revoke_token(uow, created.id).revoked_at == first
    assert stored(desk, created.id).revoked_at == first
    with desk.db.reading() as session:
        assert len(session.scalars(select(Event).where(Event.name == "token.revoked")).all()) == 1


def test_only_the_owner_or_people_managers_revoke(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    bob = make_user(role="agent")
    admin = make_user(role="admin")
    created, secret = create(desk, ann)
    for stranger_or_missing in ((bob, created.id), (ann, 999_999)):
        actor, token_id = stranger_or_missing
        with pytest.raises(NotFound, match=f"no API token with id {token_id}"), desk.action(actor, source="t") as uow:
            tokens.revoke_token(uow, token_id)
    assert authenticate(desk, secret) is not None
    with desk.action(admin, source="test") as uow:
        tokens.revoke_token(uow, created.id)
    assert authenticate(desk, secret) is None


def test_deactivated_users_tokens_stop_working(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    _, secret = create(desk, ann)
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(User, ann.id).active = False
    assert authenticate(desk, secret) is None
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(User, ann.id).active = True
    assert authenticate(desk, secret) is not None


def test_malformed_and_unknown_secrets_are_refused(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    _, secret = create(desk, ann)
    for wrong in ("", "fd_", secret[:-1], secret + "x", secret[3:], "fd_" + "a" * 300, None, 42):
        assert authenticate(desk, wrong) is None  # type: ignore[arg-type]
    assert authenticate(desk, f"  {secret}\n") is not None


def test_last_used_at_is_written_at_most_once_a_minute(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    created, secret = create(desk, ann)
    assert created.last_used_at is None
    updates: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", count)
    try:
        t0 = utcnow()
        authenticate(desk, secret, now=t0)
        assert stored(desk, created.id).last_used_at == t0
        assert len(updates) == 1
        for seconds in (1, 30, 59):
            authenticate(desk, secret, now=t0 + timedelta(seconds=seconds))
        assert len(updates) == 1
        assert stored(desk, created.id).last_used_at == t0
        authenticate(desk, secret, now=t0 + timedelta(seconds=61))
        assert len(updates) == 2
        assert stored(desk, created.id).last_used_at == t0 + timedelta(seconds=61)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", count)


def test_listing_shows_own_tokens_and_never_a_hash(desk: Desk, make_user: Any) -> None:
    ann = make_user(email="ann@example.com")
    bob = make_user(email="bob@example.com")
    admin = make_user(role="admin")
    first, first_secret = create(desk, ann, name="laptop", expires_in_days=7)
    second, _ = create(desk, ann, name="ci", scope="write")
    create(desk, bob, name="bob's")
    with desk.action(ann, source="test") as uow:
        tokens.revoke_token(uow, second.id)

    with desk.reading(ann) as uow:
        rows = tokens.list_tokens(uow)
    assert [row["id"] for row in rows] == [second.id, first.id]
    assert all(set(row) == LISTED_FIELDS for row in rows)
    assert [row["state"] for row in rows] == ["revoked", "active"]
    assert rows[1]["prefix"] == first_secret[:8]
    assert rows[1]["user"] == "ann@example.com"
    dumped = json.dumps(rows)
    assert first.token_hash not in dumped
    assert second.token_hash not in dumped
    assert first_secret[8:] not in dumped

    with pytest.raises(PermissionDenied), desk.reading(ann) as uow:
        tokens.list_tokens(uow, "bob@example.com")
    with desk.reading(admin) as uow:
        assert [row["name"] for row in tokens.list_tokens(uow, "BOB@example.com")] == ["bob's"]
        assert tokens.list_tokens(uow) == []
        with pytest.raises(NotFound):
            tokens.list_tokens(uow, "ghost@example.com")
    with desk.reading(SYSTEM) as uow:
        assert len(tokens.list_tokens(uow)) == 3
    with pytest.raises(PermissionDenied), desk.reading(None) as uow:
        tokens.list_tokens(uow)


def test_expired_tokens_are_listed_as_expired(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    created, _ = create(desk, ann, expires_in_days=1)
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(ApiToken, created.id).expires_at = utcnow() - timedelta(seconds=1)
    with desk.reading(ann) as uow:
        assert [row["state"] for row in tokens.list_tokens(uow)] == ["expired"]


def test_tokens_go_with_their_user(desk: Desk, make_user: Any) -> None:
    ann = make_user()
    create(desk, ann)
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.execute(delete(Event))
        uow.session.execute(delete(User).where(User.id == ann.id))
    with desk.db.reading() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_scopes_nest() -> None:
    assert tokens.scope_allows("admin", "write")
    assert tokens.scope_allows("write", "read")
    assert tokens.scope_allows("read", "read")
    assert not tokens.scope_allows("read", "write")
    assert not tokens.scope_allows("write", "admin")


# CLI


@pytest.fixture
def token_cli(desk: Desk, desk_config: Config) -> Any:
    """Runs ``frontdesk token ...`` under the real root group (one-line errors, exit codes)."""

    def run(*args: str) -> Result:
        root = FrontdeskGroup(name="frontdesk")
        root.add_command(token)
        state = CliState(desk_config, plugins=["webui"])
        try:
            return CliRunner().invoke(root, ["token", *args], obj=state, catch_exceptions=False)
        finally:
            state.reset()

    return run


def test_cli_create_prints_the_token_once(desk: Desk, make_user: Any, token_cli: Any) -> None:
    ann = make_user(email="ann@example.com")
    result = token_cli("create", "--user", "ann@example.com", "--name", "backup", "--scope", "write")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Created token 1 'backup' for ann@example.com (scope write, never expires)")
    secret = lines[1]
    assert secret.startswith("fd_")
    assert result.output.count(secret) == 1
    assert "cannot be shown again" in lines[2]
    user, scope = authenticate(desk, secret)
    assert (user.id, scope) == (ann.id, "write")


@pytest.mark.parametrize(("expires", "days"), [("90d", 90), ("30", 30), ("1D", 1), ("never", None)])
def test_cli_create_expiry(desk: Desk, make_user: Any, token_cli: Any, expires: str, days: int | None) -> None:
    make_user(email="ann@example.com")
    result = token_cli("create", "--user", "ann@example.com", "--expires", expires)
    assert result.exit_code == 0, result.output
    created = stored(desk, 1)
    if days is None:
        assert created.expires_at is None
        assert "never expires" in result.output
    else:
        assert created.expires_at - created.created_at == timedelta(days=days)
        assert f"expires {created.expires_at:%Y-%m-%d %H:%M} UTC" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "ghost@example.com"], "Error: user: no user with e-mail 'ghost@example.com'"),
        (["--user", "ann@example.com", "--scope", "admin"], "Error: scope: ann@example.com is not an admin;"),
        (["--user", "ann@example.com", "--expires", "0"], "Error: expires_in_days: Between 1 and 3650 days"),
        (["--user", "ann@example.com", "--expires", "9999d"], "Error: expires_in_days: Between 1 and 3650 days"),
        (["--user", "ann@example.com", "--name", " "], "Error: name: Must not be blank."),
    ],
)
def test_cli_create_errors_are_one_line(make_user: Any, token_cli: Any, args: list[str], message: str) -> None:
    make_user(email="ann@example.com")
    result = token_cli("create", *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(message)


def test_cli_create_refuses_a_malformed_expiry_as_usage(make_user: Any, token_cli: Any) -> None:
    make_user(email="ann@example.com")
    result = token_cli("create", "--user", "ann@example.com", "--expires", "soon")
    assert result.exit_code == 2
    assert "'soon' is not a number of days" in result.output
    assert token_cli("create", "--user", "ann@example.com", "--scope", "root").exit_code == 2


def test_cli_list_never_shows_secrets_or_hashes(desk: Desk, make_user: Any, token_cli: Any) -> None:
    make_user(email="ann@example.com")
    make_user(email="bob@example.com")
    secrets = []
    for email, name in (("ann@example.com", "laptop"), ("bob@example.com", "ci")):
        result = token_cli("create", "--user", email, "--name", name)
        secrets.append(result.output.splitlines()[1])
    hashes = [stored(desk, 1).token_hash, stored(desk, 2).token_hash]

    table = token_cli("list")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == [
        "ID",
        "USER",
        "NAME",
        "PREFIX",
        "SCOPE",
        "STATE",
        "CREATED_AT",
        "EXPIRES_AT",
        "LAST_USED_AT",
    ]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["2", "bob@example.com", "ci"],
        ["1", "ann@example.com", "laptop"],
    ]
    assert f"{secrets[0][:8]}..." in table.output
    as_json = token_cli("list", "--user", "ann@example.com", "--json")
    rows = json.loads(as_json.output)
    assert [row["name"] for row in rows] == ["laptop"]
    assert set(rows[0]) == LISTED_FIELDS
    for output in (table.output, as_json.output):
        assert not any(secret[8:] in output for secret in secrets)
        assert not any(digest in output for digest in hashes)
    missing = token_cli("list", "--user", "ghost@example.com")
    assert missing.exit_code == 1
    assert missing.output.strip() == "Error: no user with e-mail 'ghost@example.com'"


def test_cli_revoke(desk: Desk, make_user: Any, token_cli: Any) -> None:
    make_user(email="ann@example.com")
    secret = token_cli("create", "--user", "ann@example.com", "--name", "laptop").output.splitlines()[1]
    result = token_cli("revoke", "1")
    assert result.exit_code == 0
    assert result.output.strip() == "Revoked token 1 'laptop' of ann@example.com."
    assert authenticate(desk, secret) is None
    again = token_cli("revoke", "1")
    assert again.exit_code == 0
    assert again.output.strip() == "The token 1 'laptop' of ann@example.com was already revoked."
    assert "revoked" in token_cli("list").output.splitlines()[1].split()
    missing = token_cli("revoke", "42")
    assert missing.exit_code == 1
    assert missing.output.strip() == "Error: no API token with id 42"
    assert token_cli("revoke", "one").exit_code == 2
