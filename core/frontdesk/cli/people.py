"""``frontdesk user``, ``group`` and ``org``: the people who use the desk."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.models import Group, GroupMembership, Role, User
from frontdesk.permissions import SYSTEM
from frontdesk.schemas.people import GroupSchema, UserSchema
from frontdesk.services import people


@click.group()
def user() -> None:
    """Create and list users (admins, agents, requesters)."""


@user.command("create")
@click.option("--email", required=True, help="Sign-in e-mail address (unique).")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REQUESTER.value, show_default=True)
@click.option("--password", help="Sign-in password (8 characters or more); without it the user cannot sign in yet.")
@click.option(
    "--group", "groups", multiple=True, metavar="GROUP", help="Group to join (agents and admins; repeatable)."
)
@click.option("--organization", help="Organization of a requester.")
@click.option("--all-groups", is_flag=True, help="Agent sees every group's tickets.")
@click.pass_obj
def user_create(state: CliState, **values: object) -> None:
    """Create a user."""
    values["groups"] = list(values["groups"])  # type: ignore[call-overload]
    with state.desk.action(SYSTEM, source="cli") as uow:
        created = people.create_user(uow, values)
        click.echo(f"Created {created.role} {created.email} (id {created.id}).")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def user_list(state: CliState, as_json: bool) -> None:
    """List users."""
    with state.desk.reading(SYSTEM) as uow:
        users = uow.session.scalars(
            select(User)
            .options(
                selectinload(User.organization), selectinload(User.memberships).selectinload(GroupMembership.group)
            )
            .order_by(User.email)
        ).all()
        rows = UserSchema(many=True).dump(users)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        row["groups"] = ",".join(row["groups"])
    echo_table(rows, ["email", "name", "role", "organization", "groups"])


@click.group()
def group() -> None:
    """Create groups (queues) and add agents to them."""


@group.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the group handles.")
@click.pass_obj
def group_create(state: CliState, name: str, description: str) -> None:
    """Create group NAME."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        created = people.create_group(uow, {"name": name, "description": description})
        click.echo(f"Created group {created.name!r}.")


@group.command("add-member")
@click.argument("name")
@click.argument("email")
@click.pass_obj
def group_add_member(state: CliState, name: str, email: str) -> None:
    """Add the agent with EMAIL to group NAME."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        membership = people.add_member(uow, name, email)
        click.echo(f"Added {membership.user.email} to {membership.group.name!r}.")


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def group_list(state: CliState, as_json: bool) -> None:
    """List groups with their members."""
    with state.desk.reading(SYSTEM) as uow:
        groups = uow.session.scalars(
            select(Group)
            .options(selectinload(Group.memberships).selectinload(GroupMembership.user))
            .order_by(Group.name)
        ).all()
        rows = GroupSchema(many=True).dump(groups)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        row["members"] = ",".join(row["members"])
    echo_table(rows, ["name", "description", "members"])


@click.group()
def org() -> None:
    """Create organizations that requesters belong to."""


@org.command("create")
@click.argument("name")
@click.option("--shared", is_flag=True, help="Its requesters see each other's tickets.")
@click.pass_obj
def org_create(state: CliState, name: str, shared: bool) -> None:
    """Create organization NAME."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        created = people.create_organization(uow, {"name": name, "shared": shared})
        click.echo(f"Created organization {created.name!r}.")
