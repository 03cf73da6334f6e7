"""Creating and changing users, organizations and groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import Group, GroupMembership, Organization, Role, User
from frontdesk.schemas import load
from frontdesk.schemas.people import GroupCreateSchema, OrganizationCreateSchema, UserCreateSchema
from frontdesk.services.passwords import hash_password
from frontdesk.uow import UnitOfWork


def find_user(uow: UnitOfWork, email: str) -> User:
    """The user with this e-mail address (any case); :class:`NotFound` otherwise."""
    user = uow.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with e-mail {email!r}")
    return user


def find_group(uow: UnitOfWork, name: str) -> Group:
    """The group called ``name`` (any case); :class:`NotFound` otherwise."""
    group = uow.session.scalar(select(Group).where(func.lower(Group.name) == name.strip().lower()))
    if group is None:
        raise NotFound(f"no group named {name!r}")
    return group


def create_user(uow: UnitOfWork, data: dict[str, Any]) -> User:
    """Create a user; agents and admins may join groups, requesters may belong to an organization."""
    uow.require("people.manage")
    values = load(UserCreateSchema(), data)
    if uow.session.scalar(select(User.id).where(func.lower(User.email) == values["email"])) is not None:
        raise Conflict(f"a user with e-mail {values['email']!r} already exists")
    if values["groups"] and values["role"] == Role.REQUESTER:
        raise ValidationError({"groups": ["requesters cannot be members of groups"]})
    groups = [_existing(uow, Group, "groups", name) for name in values["groups"]]
    organization = None
    if values["organization"]:
        organization = _existing(uow, Organization, "organization", values["organization"])
    user = User(
        email=values["email"],
        name=values["name"],
        role=values["role"],
        password_hash=hash_password(values["password"]) if values["password"] else None,
        organization=organization,
        all_groups=values["all_groups"],
    )
    user.memberships = [GroupMembership(group=group) for group in groups]
    uow.session.add(user)
    uow.session.flush()
    return user


def create_organization(uow: UnitOfWork, data: dict[str, Any]) -> Organization:
    """Create an organization with a unique name."""
    uow.require("people.manage")
    values = load(OrganizationCreateSchema(), data)
    _unique_name(uow, Organization, values["name"])
    organization = Organization(**values)
    uow.session.add(organization)
    uow.session.flush()
    return organization


def create_group(uow: UnitOfWork, data: dict[str, Any]) -> Group:
    """Create a group (queue) with a unique name."""
    uow.require("people.manage")
    values = load(GroupCreateSchema(), data)
    _unique_name(uow, Group, values["name"])
    group = Group(**values)
    uow.session.add(group)
    uow.session.flush()
    return group


def add_member(uow: UnitOfWork, group_name: str, email: str) -> GroupMembership:
    """Make an agent or admin a member of a group; adding an existing member is a conflict."""
    uow.require("people.manage")
    group = find_group(uow, group_name)
    user = find_user(uow, email)
    if not user.is_staff:
        raise ValidationError({"email": [f"{user.email} is a requester; only agents and admins join groups"]})
    if uow.session.get(GroupMembership, (group.id, user.id)) is not None:
        raise Conflict(f"{user.email} is already a member of {group.name!r}")
    membership = GroupMembership(group=group, user=user)
    uow.session.add(membership)
    uow.session.flush()
    return membership


def _existing(uow: UnitOfWork, model: type[Group] | type[Organization], field: str, name: str) -> Any:
    found = uow.session.scalar(select(model).where(func.lower(model.name) == name.strip().lower()))
    if found is None:
        raise ValidationError({field: [f"no {model.__name__.lower()} named {name!r}"]})
    return found


def _unique_name(uow: UnitOfWork, model: type[Group] | type[Organization], name: str) -> None:
    if uow.session.scalar(select(model.id).where(func.lower(model.name) == name.lower())) is not None:
        raise Conflict(f"a {model.__name__.lower()} named {name!r} already exists")
