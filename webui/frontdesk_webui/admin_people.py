"""The admin console's people pages: users, groups and organizations."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import Role
from frontdesk.services import people
from frontdesk_webui.admin_base import action, bp, checked, reading, submit, text

ROLES = [role.value for role in Role]


def lookups() -> dict[str, Any]:
    """Group and organization names for the forms' choices."""
    with reading() as uow:
        return {
            "all_groups_list": [group.name for group in people.list_groups(uow)],
            "organizations": [org.name for org in people.list_organizations(uow)],
        }


# --- Users ------------------------------------------------------------------------------------


def render_users(
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    filters = {"q": request.args.get("q", "").strip(), "role": request.args.get("role", "")}
    query: dict[str, Any] = {"limit": 50}
    if filters["q"]:
        query["q"] = filters["q"]
    if filters["role"] in ROLES:
        query["role"] = filters["role"]
    if request.args.get("cursor"):
        query["cursor"] = request.args["cursor"]
    with reading() as uow:
        page = people.list_users(uow, query)
        html = render_template(
            "admin/users.html",
            users=page.items,
            next_cursor=page.next_cursor,
            filters=filters,
            roles=ROLES,
            form=form
            or {"email": "", "name": "", "role": "requester", "password": "", "groups": [], "organization": ""},
            errors=errors or {},
            conflict=conflict,
            **lookups(),
        )
    return html, status


@bp.route("/users", methods=["GET", "POST"])
def users() -> Response | tuple[str, int]:
    if request.method == "GET":
        return render_users()
    form = {
        "email": text("email"),
        "name": text("name"),
        "role": text("role"),
        "password": text("password"),
        "groups": request.form.getlist("groups"),
        "organization": text("organization"),
    }
    data = {**form, "password": form["password"] or None, "organization": form["organization"] or None}
    user_id = submit(lambda uow: people.create_user(uow, data).id, render_users, {**form, "password": ""})
    flash(f"User {form['email']} created.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


def render_user(
    user_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with reading() as uow:
        user = people.read_user(uow, user_id)
        member_of = sorted(m.group.name for m in user.memberships)
        form = form or {
            "name": user.name,
            "role": user.role,
            "active": user.active,
            "all_groups": user.all_groups,
            "organization": user.organization.name if user.organization else "",
        }
        html = render_template(
            "admin/user.html",
            user=user,
            member_of=member_of,
            roles=ROLES,
            form=form,
            errors=errors or {},
            conflict=conflict,
            **lookups(),
        )
    return html, status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> Response | tuple[str, int]:
    if request.method == "GET":
        return render_user(user_id)
    form = {
        "name": text("name"),
        "role": text("role"),
        "active": checked("active"),
        "all_groups": checked("all_groups"),
        "organization": text("organization"),
    }
    data: dict[str, Any] = {**form, "organization": form["organization"] or None}
    if text("password"):
        data["password"] = text("password")
    submit(lambda uow: people.update_user(uow, user_id, data), partial(render_user, user_id), form)
    flash("User saved.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/groups", methods=["POST"])
def user_groups(user_id: int) -> Response:
    """Add the user to a group (``add``) or take them out of one (``remove``)."""
    group = text("group")
    try:
        with action() as uow:
            email = people.user_by_id(uow, user_id).email
            if text("action") == "remove":
                people.remove_member(uow, group, email)
                message = f"Removed from {group}."
            else:
                people.add_member(uow, group, email)
                message = f"Added to {group}."
    except ValidationError as exc:
        flash(" ".join(m for ms in exc.errors.values() for m in ms), "danger")
    except (Conflict, NotFound) as exc:
        flash(exc.message, "warning")
    else:
        flash(message, "success")
    return redirect(url_for("admin.user", user_id=user_id))


# --- Groups -----------------------------------------------------------------------------------


def render_groups(
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with reading() as uow:
        html = render_template(
            "admin/groups.html",
            groups=people.list_groups(uow),
            form=form or {"name": "", "description": ""},
            errors=errors or {},
            conflict=conflict,
        )
    return html, status


@bp.route("/groups", methods=["GET", "POST"])
def groups() -> Response | tuple[str, int]:
    if request.method == "GET":
        return render_groups()
    form = {"name": text("name"), "description": text("description")}
    group_id = submit(lambda uow: people.create_group(uow, form).id, render_groups, form)
    flash(f"Group {form['name']} created.", "success")
    return redirect(url_for("admin.group", group_id=group_id))


def render_group(
    group_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with reading() as uow:
        group = people.read_group(uow, group_id)
        members = sorted((m.user for m in group.memberships), key=lambda u: u.email)
        levels = [other.name for other in people.list_groups(uow) if other.id != group.id]
        html = render_template(
            "admin/group.html",
            group=group,
            members=members,
            levels=levels,
            form=form
            or {
                "name": group.name,
                "description": group.description,
                "escalates_to": group.escalates_to.name if group.escalates_to else "",
            },
            errors=errors or {},
            conflict=conflict,
        )
    return html, status


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int) -> Response | tuple[str, int]:
    """A group's name, description and next support level (``escalates_to``: L1 → L2 → L3)."""
    if request.method == "GET":
        return render_group(group_id)
    form = {"name": text("name"), "description": text("description"), "escalates_to": text("escalates_to")}
    data: dict[str, Any] = {"name": form["name"], "description": form["description"]}
    if "escalates_to" in request.form:  # a form without the select leaves the level alone
        data["escalates_to"] = form["escalates_to"] or None
    submit(lambda uow: people.update_group(uow, group_id, data), partial(render_group, group_id), form)
    flash("Group saved.", "success")
    return redirect(url_for("admin.group", group_id=group_id))


@bp.route("/groups/<int:group_id>/members", methods=["POST"])
def group_members(group_id: int) -> Response | tuple[str, int]:
    """Add a member by e-mail (``add``) or remove one (``remove``)."""
    email = text("email").strip()
    removing = text("action") == "remove"
    try:
        with action() as uow:
            name = people.group_by_id(uow, group_id).name
            if removing:
                people.remove_member(uow, name, email)
            else:
                people.add_member(uow, name, email)
    except ValidationError as exc:
        return render_group(group_id, errors=exc.errors, status=422)
    except NotFound as exc:
        if removing:
            flash(exc.message, "warning")
            return redirect(url_for("admin.group", group_id=group_id))
        return render_group(group_id, errors={"email": [exc.message]}, status=422)
    except Conflict as exc:
        return render_group(group_id, conflict=exc.message, status=409)
    flash(f"{email} {'removed' if removing else 'added'}.", "success")
    return redirect(url_for("admin.group", group_id=group_id))


# --- Organizations ----------------------------------------------------------------------------


def render_organizations(
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with reading() as uow:
        html = render_template(
            "admin/organizations.html",
            organizations=people.list_organizations(uow),
            form=form or {"name": "", "shared": False},
            errors=errors or {},
            conflict=conflict,
        )
    return html, status


@bp.route("/organizations", methods=["GET", "POST"])
def organizations() -> Response | tuple[str, int]:
    if request.method == "GET":
        return render_organizations()
    form = {"name": text("name"), "shared": checked("shared")}
    org_id = submit(lambda uow: people.create_organization(uow, form).id, render_organizations, form)
    flash(f"Organization {form['name']} created.", "success")
    return redirect(url_for("admin.organization", org_id=org_id))


def render_organization(
    org_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    with reading() as uow:
        org = people.read_organization(uow, org_id)
        members = people.list_users(uow, {"organization": org.name, "limit": 200}).items
        html = render_template(
            "admin/organization.html",
            org=org,
            members=members,
            form=form or {"name": org.name, "shared": org.shared},
            errors=errors or {},
            conflict=conflict,
        )
    return html, status


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
def organization(org_id: int) -> Response | tuple[str, int]:
    if request.method == "GET":
        return render_organization(org_id)
    form = {"name": text("name"), "shared": checked("shared")}
    submit(lambda uow: people.update_organization(uow, org_id, form), partial(render_organization, org_id), form)
    flash("Organization saved.", "success")
    return redirect(url_for("admin.organization", org_id=org_id))
