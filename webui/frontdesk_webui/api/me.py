"""`/api/v1/me`: who the caller is and what they may do."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from frontdesk.models import Group, GroupMembership
from frontdesk_webui.api.auth import require_actor
from frontdesk_webui.context import desk

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The calling user.")


class MeSchema(Schema):
    """The calling user with their groups and the permissions they hold."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    all_groups = fields.Boolean()
    groups = fields.List(fields.String())
    permissions = fields.List(fields.String())


@blp.route("")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """The calling user, their groups and permissions."""
        user = require_actor()
        the_desk = desk()
        with the_desk.db.reading() as session:
            groups = session.scalars(
                select(Group.name).join(GroupMembership).where(GroupMembership.user_id == user.id).order_by(Group.name)
            ).all()
        return {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "all_groups": user.all_groups,
            "groups": list(groups),
            "permissions": [p.name for p in the_desk.permissions if the_desk.permissions.can(user, p.name)],
        }
