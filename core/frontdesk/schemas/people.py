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


class OrganizationCreateSchema(Schema):
    """A new organization; ``shared`` lets its requesters see each other's tickets."""

    name = fields.String(required=True, validate=NAME)
    shared = fields.Boolean(load_default=False)

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["name"] = _strip(data["name"])
        return data
