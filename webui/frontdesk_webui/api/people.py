"""``/api/v1/users``, ``/organizations`` and ``/groups``: the people who use the desk.

Reading: agents and admins see everyone; a requester sees only themselves and their own
organization. Writing needs the ``people.manage`` permission (admins) and, with an API token,
the ``admin`` scope.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from frontdesk.errors import PermissionDenied
from frontdesk.models import User
from frontdesk.schemas.people import (
    GroupCreateSchema,
    GroupSchema,
    GroupUpdateSchema,
    MembershipCreateSchema,
    OrganizationCreateSchema,
    OrganizationSchema,
    OrganizationUpdateSchema,
    UserCreateSchema,
    UserListSchema,
    UserSchema,
    UserUpdateSchema,
)
from frontdesk.services import people
from frontdesk_webui.api.auth import SAFE_METHODS, actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/api/v1",
    description="Users, organizations and groups (agents and admins; requesters see themselves).",
)


class UserPageSchema(Schema):
    """One page of users; pass ``next_cursor`` as ``cursor`` for the next (null on the last page)."""

    items = fields.List(fields.Nested(UserSchema))
    next_cursor = fields.String(allow_none=True)


@blp.before_request
def authorize() -> None:
    """Refuse who may not call before the body or query is validated: 403 comes before 422."""
    user = require_actor()
    if request.method not in SAFE_METHODS:
        require_scope("admin")
        desk().permissions.require(user, "people.manage")
    elif request.endpoint == "people.Users" and not user.is_staff:
        raise PermissionDenied("only agents and admins can list people")


def admin() -> User:
    """The caller of a people-changing call: signed in and, with a token, holding the ``admin`` scope."""
    user = require_actor()
    require_scope("admin")
    return user


def _user(user_id: int) -> Any:
    with desk().reading(actor()) as uow:
        return people.read_user(uow, user_id)


def _group(group_id: int) -> Any:
    with desk().reading(actor()) as uow:
        return people.read_group(uow, group_id)


def _organization(org_id: int) -> Any:
    with desk().reading(actor()) as uow:
        return people.read_organization(uow, org_id)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserListSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List people by e-mail address, filtered by role, group, organization or text (agents and admins)."""
        with desk().reading(actor()) as uow:
            page = people.list_users(uow, args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user (admins)."""
        with desk().action(admin(), source="api") as uow:
            user_id = people.create_user(uow, data).id
        return _user(user_id), 201, {"Location": f"/api/v1/users/{user_id}"}


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id: int) -> Any:
        """One user (agents and admins: anyone; requesters: themselves)."""
        return _user(user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, changes: dict[str, Any], user_id: int) -> Any:
        """Change a user's name, role, active flag, organization or password (admins).

        Deactivating or setting a password ends the user's sessions; the last active admin stays
        an active admin (409).
        """
        with desk().action(admin(), source="api") as uow:
            people.update_user(uow, user_id, changes)
        return _user(user_id)


@blp.route("/organizations")
class Organizations(MethodView):
    @blp.response(200, OrganizationSchema(many=True))
    def get(self) -> Any:
        """List organizations (agents and admins: all; requesters: their own)."""
        with desk().reading(actor()) as uow:
            return people.list_organizations(uow)

    @blp.arguments(OrganizationCreateSchema)
    @blp.response(201, OrganizationSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an organization (admins)."""
        with desk().action(admin(), source="api") as uow:
            org_id = people.create_organization(uow, data).id
        return _organization(org_id), 201, {"Location": f"/api/v1/organizations/{org_id}"}


@blp.route("/organizations/<int:org_id>")
class OrganizationItem(MethodView):
    @blp.response(200, OrganizationSchema)
    def get(self, org_id: int) -> Any:
        """One organization (agents and admins: any; requesters: their own)."""
        return _organization(org_id)

    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200, OrganizationSchema)
    def patch(self, changes: dict[str, Any], org_id: int) -> Any:
        """Rename an organization or change whether its requesters share tickets (admins)."""
        with desk().action(admin(), source="api") as uow:
            people.update_organization(uow, org_id, changes)
        return _organization(org_id)


@blp.route("/groups")
class Groups(MethodView):
    @blp.response(200, GroupSchema(many=True))
    def get(self) -> Any:
        """List groups with their members (agents and admins)."""
        with desk().reading(actor()) as uow:
            return people.list_groups(uow)

    @blp.arguments(GroupCreateSchema)
    @blp.response(201, GroupSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a group (admins)."""
        with desk().action(admin(), source="api") as uow:
            group_id = people.create_group(uow, data).id
        return _group(group_id), 201, {"Location": f"/api/v1/groups/{group_id}"}


@blp.route("/groups/<int:group_id>")
class GroupItem(MethodView):
    @blp.response(200, GroupSchema)
    def get(self, group_id: int) -> Any:
        """One group with its members (agents and admins)."""
        return _group(group_id)

    @blp.arguments(GroupUpdateSchema)
    @blp.response(200, GroupSchema)
    def patch(self, changes: dict[str, Any], group_id: int) -> Any:
        """Rename a group or change its description (admins)."""
        with desk().action(admin(), source="api") as uow:
            people.update_group(uow, group_id, changes)
        return _group(group_id)


@blp.route("/groups/<int:group_id>/members")
class GroupMembers(MethodView):
    @blp.arguments(MembershipCreateSchema)
    @blp.response(201, GroupSchema)
    def post(self, data: dict[str, Any], group_id: int) -> Any:
        """Add an agent or admin to the group, by e-mail address (admins); answers with the group."""
        with desk().action(admin(), source="api") as uow:
            uow.require("people.manage")
            group = people.group_by_id(uow, group_id)
            people.add_member(uow, group.name, data["email"])
        return _group(group_id), 201


@blp.route("/groups/<int:group_id>/members/<int:user_id>")
class GroupMember(MethodView):
    @blp.response(204)
    def delete(self, group_id: int, user_id: int) -> Response:
        """Take a user out of the group (admins)."""
        with desk().action(admin(), source="api") as uow:
            uow.require("people.manage")
            group = people.group_by_id(uow, group_id)
            user = people.user_by_id(uow, user_id)
            people.remove_member(uow, group.name, user.email)
        return Response(status=204)
