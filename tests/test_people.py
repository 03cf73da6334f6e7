"""People services: users, groups, organizations, and who may create them."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.errors import Conflict, PermissionDenied, ValidationError
from frontdesk.models import Group, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import people
from frontdesk.services.passwords import check_credentials


def test_only_admins_manage_people(desk: Desk, make_user: Any) -> None:
    agent = make_user(role="agent")
    admin = make_user(role="admin")
    with pytest.raises(PermissionDenied, match=r"people\.manage"), desk.action(agent, source="test") as uow:
        people.create_group(uow, {"name": "Sneaky"})
    with desk.action(admin, source="test") as uow:
        assert people.create_group(uow, {"name": "Support"}).id


def test_a_refused_action_writes_nothing(desk: Desk) -> None:
    with pytest.raises(ValidationError), desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Half done"})
        people.create_user(uow, {"email": "x@example.com", "name": "X", "role": "requester", "groups": ["Half done"]})
    with desk.db.reading() as session:
        assert session.query(User).count() == 0
        assert session.query(Group).count() == 0


def test_validation_names_every_bad_field(desk: Desk) -> None:
    with pytest.raises(ValidationError) as caught, desk.action(SYSTEM, source="test") as uow:
        people.create_user(uow, {"email": "bad", "name": "", "role": "wizard"})
    assert set(caught.value.errors) == {"email", "name", "role"}


def test_groups_and_organizations_are_unique_regardless_of_case(desk: Desk) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_organization(uow, {"name": "ACME"})
    with pytest.raises(Conflict), desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": " SUPPORT "})
    with pytest.raises(Conflict), desk.action(SYSTEM, source="test") as uow:
        people.create_organization(uow, {"name": "acme"})


def test_only_staff_join_groups_and_only_once(desk: Desk, make_user: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
    requester = make_user()
    agent = make_user(role="agent")
    with pytest.raises(ValidationError, match="requester"), desk.action(SYSTEM, source="test") as uow:
        people.add_member(uow, "Support", requester.email)
    with desk.action(SYSTEM, source="test") as uow:
        people.add_member(uow, "support", agent.email.upper())
    with pytest.raises(Conflict), desk.action(SYSTEM, source="test") as uow:
        people.add_member(uow, "Support", agent.email)


def test_passwords_are_hashed_with_argon2id_and_checked(desk: Desk, make_user: Any) -> None:
    user = make_user(email="ann@example.com", password="correct horse")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    with desk.db.reading() as session:
        assert check_credentials(session, "ANN@example.com ", "correct horse").id == user.id
        assert check_credentials(session, "ann@example.com", "wrong horse") is None
        assert check_credentials(session, "nobody@example.com", "correct horse") is None


def test_outdated_password_hashes_are_upgraded_at_sign_in(desk: Desk, make_user: Any) -> None:
    from argon2 import PasswordHasher

    user = make_user(email="old@example.com")
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(User, user.id).password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash("password123")
    with desk.action(SYSTEM, source="test") as uow:
        assert check_credentials(uow.session, "old@example.com", "password123") is not None
    with desk.db.reading() as session:
        assert "m=65536,t=3" in session.get(User, user.id).password_hash


def test_inactive_users_cannot_sign_in(desk: Desk, make_user: Any) -> None:
    user = make_user(email="gone@example.com")
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.get(User, user.id).active = False
    with desk.db.reading() as session:
        assert check_credentials(session, "gone@example.com", "password123") is None
