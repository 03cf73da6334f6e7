"""Schemas for users, organizations and groups."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from frontdesk.models import Role

NAME = validate.And(
    validate.Length(max=200, error="At most {max} characters."),
    validate.Regexp(r".*\S", error="Must not be blank."),
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class UserCreateSchema(Schema):
    """A new user: e-mail is their sign-in name and unique regardless of case."""

    email = fields.Email(required=True, validate=validate.Length(max=320))
    name = fields.String(required=True, validate=NAME)
    role = fields.String(load_default=Role.REQUESTER.value, validate=validate.OneOf([r.value for r in Role]))
    password = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=8, max=1024, error="Between {min} and {max} characters."),
    )
    groups = fields.List(fields.String(validate=NAME), load_default=list)
    organization = fields.String(load_default=None, allow_none=True, validate=NAME)
    all_groups = fields.Boolean(load_default=False)

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["email"] = data["email"].strip().lower()
        data["name"] = _strip(data["name"])
        return data


class UserSchema(Schema):
    """A user as shown to others (never the password hash)."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    all_groups = fields.Boolean()
    organization = fields.Function(lambda user: user.organization.name if user.organization else None)
    groups = fields.Function(lambda user: sorted(m.group.name for m in user.memberships))


class GroupCreateSchema(Schema):
    """A new group (queue)."""

    name = fields.String(required=True, validate=NAME)
    description = fields.String(load_default="", validate=validate.Length(max=2000))

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["name"] = _strip(data["name"])
        return data


class GroupSchema(Schema):
    """A group with its members' e-mail addresses."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    members = fields.Function(lambda group: sorted(m.user.email for m in group.memberships))
    escalates_to = fields.Function(
        lambda group: group.escalates_to.name if group.escalates_to else None,
        metadata={"type": ["string", "null"], "description": "The group tickets escalate to (next support level)"},
    )


class OrganizationCreateSchema(Schema):
    """A new organization; ``shared`` lets its requesters see each other's tickets."""

    name = fields.String(required=True, validate=NAME)
    shared = fields.Boolean(load_default=False)

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["name"] = _strip(data["name"])
        return data


class UserUpdateSchema(Schema):
    """Changes to a user; only the fields given change. ``organization`` null takes them out of theirs."""

    name = fields.String(validate=NAME)
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    active = fields.Boolean()
    all_groups = fields.Boolean()
    organization = fields.String(allow_none=True, validate=NAME)
    password = fields.String(
        allow_none=True,
        validate=validate.Length(min=8, max=1024, error="Between {min} and {max} characters."),
        metadata={"description": "A new sign-in password; null removes it (the user cannot sign in)"},
    )

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for key in ("name", "organization"):
            if key in data:
                data[key] = _strip(data[key])
        return data


class GroupUpdateSchema(Schema):
    """Changes to a group; only the fields given change. ``escalates_to`` names the next support level."""

    name = fields.String(validate=NAME)
    description = fields.String(validate=validate.Length(max=2000))
    escalates_to = fields.String(allow_none=True, validate=NAME)

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "name" in data:
            data["name"] = _strip(data["name"])
        return data


class OrganizationUpdateSchema(Schema):
    """Changes to an organization; only the fields given change."""

    name = fields.String(validate=NAME)
    shared = fields.Boolean()

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "name" in data:
            data["name"] = _strip(data["name"])
        return data


class OrganizationSchema(Schema):
    """An organization as entry points show it."""

    id = fields.Integer()
    name = fields.String()
    shared = fields.Boolean()
    created_at = fields.DateTime()


class MembershipCreateSchema(Schema):
    """An agent or admin to add to a group, by e-mail address."""

    email = fields.Email(required=True, validate=validate.Length(max=320))


class UserListSchema(Schema):
    """Filters and page of a user list; every filter is optional and they combine with AND."""

    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    group = fields.String(validate=NAME, metadata={"description": "Members of the group with this name"})
    organization = fields.String(validate=NAME, metadata={"description": "Members of the organization with this name"})
    active = fields.Boolean()
    q = fields.String(
        validate=validate.Length(max=200), metadata={"description": "Part of the e-mail address or name (any case)"}
    )
    cursor = fields.String(
        validate=validate.Length(max=1000), metadata={"description": "`next_cursor` of the previous page"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
