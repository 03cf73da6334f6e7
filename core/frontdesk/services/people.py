"""Users, organizations and groups: creating, changing and reading them as the actor may."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import Group, GroupMembership, Organization, Role, User
from frontdesk.schemas import load
from frontdesk.schemas.people import (
    GroupCreateSchema,
    GroupUpdateSchema,
    OrganizationCreateSchema,
    OrganizationUpdateSchema,
    UserCreateSchema,
    UserListSchema,
    UserUpdateSchema,
)
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


def update_user(uow: UnitOfWork, user_id: int, data: dict[str, Any]) -> User:
    """Change a user's name, role, active flag, all-groups flag, organization or password (admins).

    The last active admin can be neither demoted nor deactivated (:class:`Conflict`). Becoming a
    requester leaves every group. Deactivating or setting a new password ends all of the user's
    sessions (the session epoch is bumped); deactivated users' API tokens stop working too.
    """
    uow.require("people.manage")
    values = load(UserUpdateSchema(), data)
    user = user_by_id(uow, user_id)
    role = values.get("role", user.role)
    active = values.get("active", user.active)
    if values.get("all_groups") and role == Role.REQUESTER:
        raise ValidationError({"all_groups": ["only agents and admins see groups' tickets"]})
    if user.role == Role.ADMIN and user.active and (role != Role.ADMIN or not active):
        _keep_an_admin(uow, user)
    changes: dict[str, list[Any]] = {}

    def change(field: str, new: Any) -> None:
        old = getattr(user, field)
        if old != new:
            changes[field] = [old, new]
            setattr(user, field, new)

    with uow.session.no_autoflush:
        if "organization" in values:
            organization = None
            if values["organization"]:
                organization = _existing(uow, Organization, "organization", values["organization"])
            old_name = user.organization.name if user.organization else None
            new_name = organization.name if organization else None
            if old_name != new_name:
                changes["organization"] = [old_name, new_name]
                user.organization = organization
        for field in ("name", "role", "active", "all_groups"):
            if field in values:
                change(field, values[field])
        if role == Role.REQUESTER:
            left = sorted(m.group.name for m in user.memberships)
            if left:
                changes["groups"] = [left, []]
                user.memberships = []
            change("all_groups", False)
        if "password" in values:
            had = user.password_hash is not None
            user.password_hash = hash_password(values["password"]) if values["password"] else None
            changes["password"] = [had, user.password_hash is not None]
        if ("active" in changes and not active) or "password" in changes:
            user.session_epoch += 1
    uow.session.flush()
    if changes:
        uow.emit("user.updated", payload={"user_id": user.id, "changes": changes})
    return user


def remove_member(uow: UnitOfWork, group_name: str, email: str) -> None:
    """Take an agent or admin out of a group; :class:`NotFound` when they are not a member."""
    uow.require("people.manage")
    group = find_group(uow, group_name)
    user = find_user(uow, email)
    membership = uow.session.get(GroupMembership, (group.id, user.id))
    if membership is None:
        raise NotFound(f"{user.email} is not a member of {group.name!r}")
    uow.session.delete(membership)
    uow.session.flush()
    uow.emit("group.member_removed", payload={"group_id": group.id, "user_id": user.id})


def update_group(uow: UnitOfWork, group_id: int, data: dict[str, Any]) -> Group:
    """Rename a group, change its description or its next support level; names stay unique regardless of case."""
    uow.require("people.manage")
    values = load(GroupUpdateSchema(), data)
    group = group_by_id(uow, group_id)
    changes = {}
    if "escalates_to" in values:
        changes = _set_next_level(uow, group, values.pop("escalates_to"))
    changes |= _apply_named(uow, group, values)
    if changes:
        uow.emit("group.updated", payload={"group_id": group.id, "changes": changes})
    return group


def update_organization(uow: UnitOfWork, org_id: int, data: dict[str, Any]) -> Organization:
    """Rename an organization or change whether its requesters share tickets; names stay unique."""
    uow.require("people.manage")
    values = load(OrganizationUpdateSchema(), data)
    organization = organization_by_id(uow, org_id)
    changes = _apply_named(uow, organization, values)
    if changes:
        uow.emit("organization.updated", payload={"organization_id": organization.id, "changes": changes})
    return organization


# Look-ups by id (no permission check: for services that checked already).


def user_by_id(uow: UnitOfWork, user_id: int) -> User:
    """The user with this id; :class:`NotFound` otherwise."""
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def group_by_id(uow: UnitOfWork, group_id: int) -> Group:
    """The group with this id; :class:`NotFound` otherwise."""
    group = uow.session.get(Group, group_id)
    if group is None:
        raise NotFound(f"no group with id {group_id}")
    return group


def organization_by_id(uow: UnitOfWork, org_id: int) -> Organization:
    """The organization with this id; :class:`NotFound` otherwise."""
    organization = uow.session.get(Organization, org_id)
    if organization is None:
        raise NotFound(f"no organization with id {org_id}")
    return organization


# Reading, as the actor may: staff see everyone; a requester sees themselves and their organization.

_USER_LOADS = (
    selectinload(User.organization),
    selectinload(User.memberships).selectinload(GroupMembership.group),
)
_GROUP_LOADS = (selectinload(Group.memberships).selectinload(GroupMembership.user), selectinload(Group.escalates_to))


@dataclass
class UserPage:
    """One page of users and the cursor of the next page (None on the last page)."""

    items: list[User]
    next_cursor: str | None


def list_users(uow: UnitOfWork, data: dict[str, Any]) -> UserPage:
    """Users by e-mail address, filtered by role, group, organization, active flag and ``q`` (staff only).

    Pages are keyset pages: the cursor names the last user shown, so none is skipped or repeated.
    """
    _require_staff(uow, "only agents and admins can list people")
    values = load(UserListSchema(), data)
    query = select(User).options(*_USER_LOADS)
    if "role" in values:
        query = query.where(User.role == values["role"])
    if "active" in values:
        query = query.where(User.active.is_(values["active"]))
    if "group" in values:
        members = select(GroupMembership.user_id).join(Group).where(func.lower(Group.name) == values["group"].lower())
        query = query.where(User.id.in_(members))
    if "organization" in values:
        org = select(Organization.id).where(func.lower(Organization.name) == values["organization"].lower())
        query = query.where(User.organization_id.in_(org))
    if values.get("q", "").strip():
        pattern = "%" + _escape_like(values["q"].strip().lower()) + "%"
        query = query.where(
            or_(func.lower(User.email).like(pattern, escape="\\"), func.lower(User.name).like(pattern, escape="\\"))
        )
    if values.get("cursor"):
        query = query.where(tuple_(User.email, User.id) > tuple_(*_decode_user_cursor(values["cursor"])))
    limit = values["limit"]
    rows = list(uow.session.scalars(query.order_by(User.email, User.id).limit(limit + 1)))
    items = rows[:limit]
    if len(rows) <= limit:
        return UserPage(items, None)
    last = items[-1]
    cursor = base64.urlsafe_b64encode(json.dumps([last.email, last.id]).encode()).decode()
    return UserPage(items, cursor)


def read_user(uow: UnitOfWork, user_id: int) -> User:
    """One user: staff see anyone, a requester only themselves (anyone else is :class:`NotFound`)."""
    actor = uow.actor
    if actor is None or not (_is_staff(uow) or actor.id == user_id):
        raise NotFound(f"no user with id {user_id}")
    user = uow.session.scalar(select(User).where(User.id == user_id).options(*_USER_LOADS))
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def list_organizations(uow: UnitOfWork) -> list[Organization]:
    """Organizations by name: every one for staff, a requester's own (if any) for a requester."""
    if uow.actor is None:
        raise PermissionDenied("sign in to see organizations")
    query = select(Organization).order_by(Organization.name)
    if not _is_staff(uow):
        query = query.where(Organization.id == uow.actor.organization_id)  # type: ignore[union-attr]
    return list(uow.session.scalars(query))


def read_organization(uow: UnitOfWork, org_id: int) -> Organization:
    """One organization: staff see any, a requester only their own (others are :class:`NotFound`)."""
    actor = uow.actor
    if actor is None or not (_is_staff(uow) or getattr(actor, "organization_id", None) == org_id):
        raise NotFound(f"no organization with id {org_id}")
    return organization_by_id(uow, org_id)


def list_groups(uow: UnitOfWork) -> list[Group]:
    """Groups by name with their members (staff only)."""
    _require_staff(uow, "groups are for agents and admins")
    return list(uow.session.scalars(select(Group).options(*_GROUP_LOADS).order_by(Group.name)))


def read_group(uow: UnitOfWork, group_id: int) -> Group:
    """One group with its members (staff only)."""
    _require_staff(uow, "groups are for agents and admins")
    group = uow.session.scalar(select(Group).where(Group.id == group_id).options(*_GROUP_LOADS))
    if group is None:
        raise NotFound(f"no group with id {group_id}")
    return group


def _is_staff(uow: UnitOfWork) -> bool:
    actor = uow.actor
    return actor is not None and actor.is_staff and getattr(actor, "active", True)


def _require_staff(uow: UnitOfWork, message: str) -> None:
    if not _is_staff(uow):
        raise PermissionDenied(message)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _decode_user_cursor(cursor: str) -> tuple[str, int]:
    try:
        email, user_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(email, str) or not isinstance(user_id, int):
            raise TypeError("wrong types")
    except (ValueError, TypeError) as exc:
        raise ValidationError({"cursor": ["not a cursor this desk handed out"]}) from exc
    return email, user_id


def _keep_an_admin(uow: UnitOfWork, user: User) -> None:
    """Refuse to leave the desk without an active admin.

    Every active admin's row is locked (PostgreSQL; SQLite writers are serialized anyway), in id
    order, so two admins demoting each other at once cannot both succeed.
    """
    admins = uow.session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id).with_for_update()
    ).all()
    if not set(admins) - {user.id}:
        raise Conflict(f"{user.email} is the last active admin; make someone else an admin first")


def _apply_named(uow: UnitOfWork, obj: Group | Organization, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on a group or organization, keeping its name unique; the changes as [old, new]."""
    model = type(obj)
    if "name" in values:
        clash = uow.session.scalar(
            select(model.id).where(func.lower(model.name) == values["name"].lower(), model.id != obj.id)
        )
        if clash is not None:
            raise Conflict(f"a {model.__name__.lower()} named {values['name']!r} already exists")
    changes: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [old, new]
            setattr(obj, field, new)
    uow.session.flush()
    return changes


def _set_next_level(uow: UnitOfWork, group: Group, name: str | None) -> dict[str, list[Any]]:
    """Point ``group`` at the group tickets escalate to; levels must not loop back."""
    target = _existing(uow, Group, "escalates_to", name) if name else None
    step = target
    while step is not None:
        if step.id == group.id:
            raise ValidationError({"escalates_to": ["levels would loop back to this group"]})
        step = step.escalates_to
    old = group.escalates_to.name if group.escalates_to else None
    group.escalates_to = target
    new = target.name if target else None
    return {"escalates_to": [old, new]} if old != new else {}


def _existing(uow: UnitOfWork, model: type[Group] | type[Organization], field: str, name: str) -> Any:
    found = uow.session.scalar(select(model).where(func.lower(model.name) == name.strip().lower()))
    if found is None:
        raise ValidationError({field: [f"no {model.__name__.lower()} named {name!r}"]})
    return found


def _unique_name(uow: UnitOfWork, model: type[Group] | type[Organization], name: str) -> None:
    if uow.session.scalar(select(model.id).where(func.lower(model.name) == name.lower())) is not None:
        raise Conflict(f"a {model.__name__.lower()} named {name!r} already exists")
