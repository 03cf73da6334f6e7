"""Creating and changing tickets: validation, permissions, workflow, history, events and search in one go."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import bindparam, func, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import (
    MANYTOMANY,
    MANYTOONE,
    RelationshipProperty,
    Session,
    make_transient,
    make_transient_to_detached,
)
from sqlalchemy.orm.exc import StaleDataError

from frontdesk import request_fields, search
from frontdesk.access import sees_every_ticket, visible_tickets
from frontdesk.db import MAX_ID, utcnow
from frontdesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from frontdesk.models import Group, GroupMembership, Role, StatusCategory, Tag, Ticket, User
from frontdesk.schemas import load
from frontdesk.schemas.tickets import TicketCreateSchema, TicketUpdateSchema
from frontdesk.services import workflow
from frontdesk.services.history import ChangeSet, record, record_all
from frontdesk.text import to_html
from frontdesk.uow import UnitOfWork

_TAG = re.compile(r"^[\w\-.:/+#]{1,50}$", re.UNICODE)
STAFF_FIELDS = ("priority", "type", "group", "assignee", "tags", "add_tags", "remove_tags", "subject")
# Look-ups nearly every ticket makes, built once (building a statement costs as much as running it).
_USER_BY_EMAIL = select(User).where(func.lower(User.email) == bindparam("address"))
_TAGS_NAMED = select(Tag).where(Tag.name.in_(bindparam("names", expanding=True))).order_by(Tag.name)
# A new requester; a concurrent action creating the same one wins quietly (no savepoint, no flush).
_NEW_USER = {
    "postgresql": pg_insert(User.__table__).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(User.__table__).on_conflict_do_nothing(),
}
_TICKET_COLUMNS = frozenset(Ticket.__table__.columns.keys()) - {"id", "version"}
# Columns a new ticket may leave out: the database stores NULL, which is what the flush would write.
_NULL_UNLESS_GIVEN = frozenset(
    column.key
    for column in Ticket.__table__.columns
    if column.key in _TICKET_COLUMNS and column.default is None and column.server_default is None
)
_INSERT_TICKET = insert(Ticket.__table__)
_Links = tuple[RelationshipProperty[Any], list[Any]]  # a many-to-many relationship and the objects it links
_INSERT_LINKS = {
    relationship.key: insert(relationship.secondary)
    for relationship in Ticket.__mapper__.relationships
    if relationship.direction is MANYTOMANY
}
# The SET clause follows the parameters given (one cached compilation per set of columns).
_UPDATE_TICKET = update(Ticket.__table__).where(
    Ticket.id == bindparam("ticket_id"), Ticket.version == bindparam("expected_version")
)


def get_ticket(uow: UnitOfWork, number: int) -> Ticket:
    """The ticket with this number if the actor may see it; otherwise :class:`NotFound` (never "forbidden")."""
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"ticket #{number} not found")
    if sees_every_ticket(uow.actor):  # by primary key: no query when this action has the ticket already
        ticket = uow.session.get(Ticket, number)
    else:
        ticket = uow.session.scalar(select(Ticket).where(Ticket.id == number, visible_tickets(uow.actor)))
    if ticket is None:
        raise NotFound(f"ticket #{number} not found")
    return ticket


def normalize_tag(raw: str) -> str:
    """The canonical form of a tag: lower case, spaces as dashes; a validation error if unusable."""
    tag = re.sub(r"\s+", "-", raw.strip().lower())
    if not _TAG.match(tag):
        raise ValidationError({"tags": [f"{raw!r} is not a valid tag (letters, digits and - _ . : / + #, 50 at most)"]})
    return tag


def tags_named(uow: UnitOfWork, names: list[str]) -> list[Tag]:
    """Tag rows for these names, created when new (safe against concurrent creation)."""
    wanted = sorted({normalize_tag(name) for name in names})
    if not wanted:
        return []
    found = list(uow.session.scalars(_TAGS_NAMED, {"names": wanted}))
    if len(found) == len(wanted):  # the usual case: every tag exists already
        return found
    insert = pg_insert if uow.desk.db.backend == "postgresql" else sqlite_insert
    uow.session.execute(insert(Tag).values([{"name": name} for name in wanted]).on_conflict_do_nothing())
    return list(uow.session.scalars(_TAGS_NAMED, {"names": wanted}))


def user_by_email(uow: UnitOfWork, address: str) -> User | None:
    """The user with this (lower-case) e-mail address, if any."""
    return uow.session.scalar(_USER_BY_EMAIL, {"address": address})


def person(uow: UnitOfWork, email: str, *, field: str, create: bool = False, name: str | None = None) -> User:
    """The user with this e-mail; with ``create``, a new requester when unknown (mail-style intake).

    Two actions may create the same new requester at once: the loser of that race uses the winner's row.
    """
    address = email.strip().lower()
    user = user_by_email(uow, address)
    if user is not None:
        return user
    if not create:
        raise ValidationError({field: [f"no user with e-mail {email!r}"]})
    values = {"email": address, "name": name or address.split("@")[0], "role": Role.REQUESTER.value}
    uow.session.execute(_NEW_USER[uow.desk.db.backend], values)
    user = uow.session.scalars(_USER_BY_EMAIL, {"address": address}).one()
    uow.wrote(user, new=True)
    return user


def group_named(uow: UnitOfWork, name: str) -> Group:
    """The group called ``name`` (any case)."""
    group = uow.desk.catalog.group_named(uow.session, name) or uow.session.scalar(
        select(Group).where(func.lower(Group.name) == name.strip().lower())
    )
    if group is None:
        raise ValidationError({"group": [f"no group named {name!r}"]})
    return group


def check_assignee(uow: UnitOfWork, assignee: User | None, group: Group | None) -> None:
    """An assignee must be active staff and, unless they see all groups, a member of the ticket's group."""
    if assignee is None:
        return
    if not assignee.is_staff or not assignee.active:
        raise ValidationError({"assignee": [f"{assignee.email} is not an active agent"]})
    if group is None or assignee.is_admin or assignee.all_groups:
        return
    member = uow.session.get(GroupMembership, (group.id, assignee.id))
    if member is None:
        raise ValidationError({"assignee": [f"{assignee.email} is not a member of group {group.name!r}"]})


def create_ticket(uow: UnitOfWork, data: dict[str, Any]) -> Ticket:
    """Open a ticket. Staff may file it for any requester (created when unknown); requesters file their own."""
    actor = uow.actor
    if actor is None:
        raise PermissionDenied("sign in to create tickets")
    values = load(TicketCreateSchema, data)
    extra = request_fields.load_values(uow, values["extensions"])
    staff = actor.is_staff
    if not staff:
        refused = [f for f in ("priority", "type", "group", "assignee", "requester") if values[f]]
        refused = [f for f in refused if not (f == "requester" and values[f].lower() == actor.email)]
        if refused:
            raise ValidationError({f: ["only agents can set this"] for f in refused})
    if values["requester"] and staff:
        requester = person(uow, values["requester"], field="requester", create=True, name=values["requester_name"])
    elif isinstance(actor, User):
        requester = actor
    else:
        raise ValidationError({"requester": ["required when the system files a ticket"]})
    group = group_named(uow, values["group"]) if values["group"] else None
    assignee = person(uow, values["assignee"], field="assignee") if values["assignee"] else None
    check_assignee(uow, assignee, group)
    now = utcnow()
    status = workflow.initial_status(uow)
    ticket = Ticket(
        subject=values["subject"].strip(),
        description=to_html(values["body"], values["body_format"]),
        requester=requester,
        organization_id=requester.organization_id,
        status=status,
        status_category=status.category,
        priority=workflow.priority_named(uow, values["priority"]),
        type=workflow.type_named(uow, values["type"]) if values["type"] else None,
        group=group,
        assignee=assignee,
        channel=values["channel"] or uow.source,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    ticket.tags = tags_named(uow, values["tags"])
    ticket.ccs = [person(uow, email, field="ccs", create=staff) for email in values["ccs"] if email != requester.email]
    uow.session.add(ticket)
    uow.desk.plugins.pm.hook.frontdesk_ticket_before_create(ticket=ticket, actor=actor, uow=uow)
    _write_new(uow, ticket)
    event = uow.emit("ticket.created", ticket_id=ticket.id, payload={"number": ticket.number})
    record(uow, ticket, event, "created", None, {"subject": ticket.subject, "status": status.name})
    search.index_ticket(uow, ticket, new=True)
    request_fields.save_values(uow, ticket, extra)
    return ticket


def _write_new(uow: UnitOfWork, ticket: Ticket) -> None:
    """Write the new ticket with its tag and CC links now, so that it has its number.

    When the ticket is all the session has to write, plain INSERTs do it and the ticket becomes a
    persistent instance of the session, as if loaded: the ORM's flush costs several times that.
    Anything else (rows a hook added, a related object not written yet, a savepoint the unit of
    work does not know, see :meth:`~frontdesk.uow.UnitOfWork.writes_directly`) is left to the flush.
    """
    row = _new_row(uow, ticket)
    if row is None:
        uow.session.flush()
        return
    values, links = row
    session = uow.session
    connection = session.connection()
    values["id"] = connection.execute(_INSERT_TICKET, values).inserted_primary_key[0]
    for relationship, members in links:
        rows = [_link_row(relationship, values, member) for member in members]
        connection.execute(_INSERT_LINKS[relationship.key], rows)
    _as_stored(session, ticket, values)
    uow.wrote(ticket, new=True)


def _link_row(relationship: RelationshipProperty[Any], values: dict[str, Any], member: Any) -> dict[str, Any]:
    """The row of a many-to-many ``relationship`` linking the ticket (its column ``values``) to ``member``."""
    row = {secondary.key: values[own.key] for own, secondary in relationship.synchronize_pairs}
    for theirs, secondary in relationship.secondary_synchronize_pairs:
        row[secondary.key] = getattr(member, theirs.key)
    return row


def _new_row(uow: UnitOfWork, ticket: Ticket) -> tuple[dict[str, Any], list[_Links]] | None:
    """The new ticket's row and its many-to-many links as the flush would write them; None if it cannot.

    A many-to-one relationship sets its foreign key (as the flush does); the version starts at 1.
    """
    session = uow.session
    if not uow.writes_directly() or session.dirty or session.deleted or list(session.new) != [ticket]:
        return None
    given = inspect(ticket).dict
    if "id" in given or "version" in given:
        return None
    values = {key: given[key] for key in _TICKET_COLUMNS if key in given}
    links: list[_Links] = []
    for relationship in Ticket.__mapper__.relationships:
        if relationship.key not in given:
            continue
        related = given[relationship.key]
        members = list(related) if relationship.direction is MANYTOMANY else [related]
        if any(member is not None and inspect(member).key is None for member in members):
            return None  # not written yet: no id to point at
        if relationship.direction is MANYTOMANY:
            if members:
                links.append((relationship, members))
        elif relationship.direction is MANYTOONE:
            for local, remote in relationship.local_remote_pairs:
                values[local.key] = None if related is None else getattr(related, remote.key)
        else:
            return None
    if any(values.get(key) is None for key in _TICKET_COLUMNS - _NULL_UNLESS_GIVEN):
        return None  # a column default applies: left to the flush, which reads it back
    return dict.fromkeys(_NULL_UNLESS_GIVEN) | values | {"version": 1}, links


def update_ticket(uow: UnitOfWork, number: int, data: dict[str, Any]) -> Ticket:
    """Change fields of a ticket. Agents change anything; requesters may only solve or reopen their ticket.

    ``version`` (optional) must match the ticket's current version, else :class:`Conflict`.
    """
    values = load(TicketUpdateSchema, data)
    ticket = get_ticket(uow, number)
    expected = values.pop("version", None)
    if expected is not None and expected != ticket.version:
        raise Conflict(
            f"ticket #{ticket.number} was changed by someone else (now version {ticket.version}, yours {expected}); "
            "reload it and apply your change again"
        )
    workflow.ensure_open_for_changes(ticket)
    if not uow.can("tickets.work"):
        _check_requester_update(uow, ticket, values)
    changes = ChangeSet()
    now = utcnow()
    with uow.session.no_autoflush:  # look-ups must not write a half-changed ticket
        _apply(uow, ticket, values, changes, now)
    if not changes:
        return ticket
    uow.desk.plugins.pm.hook.frontdesk_ticket_before_update(
        ticket=ticket, changes=changes.as_payload(), actor=uow.actor, uow=uow
    )
    ticket.updated_at = now
    flush_ticket(uow, ticket)
    emit_changes(uow, ticket, changes)
    if "subject" in changes:
        search.index_ticket(uow, ticket)
    return ticket


def flush_ticket(uow: UnitOfWork, ticket: Ticket) -> None:
    """Write the ticket now; a concurrent change of the same version becomes a :class:`Conflict`.

    When the ticket's own columns are all the session has to write (a reply, a status change), a
    plain UPDATE guarded by the version does it: the ORM's flush costs several times that.
    """
    number = ticket.number  # a failed flush expires the ticket along with its transaction
    try:
        if not _update_columns(uow, ticket):
            uow.session.flush()
    except StaleDataError:
        raise Conflict(f"ticket #{number} was changed by someone else; reload it and try again") from None


def _update_columns(uow: UnitOfWork, ticket: Ticket) -> bool:
    """Write the ticket's changed columns by a plain UPDATE, as the flush would; False if it cannot.

    It cannot when anything else is pending in the session, or when a relationship changed other
    than a many-to-one whose foreign key was set to match (``workflow.move`` sets both ``status`` and
    ``status_id``), nor where the unit of work says not to (:meth:`~frontdesk.uow.UnitOfWork.writes_directly`).
    Raises :class:`StaleDataError` when the stored version is no longer the ticket's.
    """
    session = uow.session
    if not uow.writes_directly() or session.new or session.deleted or list(session.dirty) != [ticket]:
        return False
    state = inspect(ticket)
    values: dict[str, Any] = {}
    for attribute in state.attrs:
        if not attribute.history.has_changes():
            continue
        if attribute.key in _TICKET_COLUMNS:
            values[attribute.key] = attribute.value
        elif not _follows_foreign_key(ticket, attribute.key, attribute.value):
            return False
    if not values:
        return False
    version = ticket.version
    parameters = {**values, "version": version + 1, "ticket_id": ticket.id, "expected_version": version}
    if session.connection().execute(_UPDATE_TICKET, parameters).rowcount != 1:
        raise StaleDataError(f"ticket #{ticket.id} is no longer at version {version}")
    _as_stored(session, ticket, {"version": version + 1})
    uow.wrote(ticket, new=False)
    return True


def _as_stored(session: Session, ticket: Ticket, values: dict[str, Any]) -> None:
    """Give the ticket the ``values`` just written and make its state the stored one, as a flush does.

    The ticket leaves the session and comes back as a persistent instance with no pending changes;
    relationships it has loaded stay loaded.
    """
    make_transient(ticket)
    for key, value in values.items():
        setattr(ticket, key, value)
    make_transient_to_detached(ticket)
    session.add(ticket)


def _follows_foreign_key(ticket: Ticket, key: str, target: Any) -> bool:
    """Whether ``key`` is a many-to-one relationship whose foreign key already points at ``target``."""
    relationship = Ticket.__mapper__.relationships.get(key)
    if relationship is None or relationship.direction is not MANYTOONE:
        return False
    if target is not None and inspect(target).key is None:  # not written yet: it has no id to point at
        return False
    return all(
        getattr(ticket, local.key) == (None if target is None else getattr(target, remote.key))
        for local, remote in relationship.local_remote_pairs
    )


def emit_changes(uow: UnitOfWork, ticket: Ticket, changes: ChangeSet) -> None:
    """The events and history rows of a set of field changes."""
    event = uow.emit("ticket.updated", ticket_id=ticket.id, payload={"changes": changes.as_payload()})
    record_all(uow, ticket, event, changes)
    if "status" in changes:
        old, new = changes.changes["status"]
        uow.emit("ticket.status_changed", ticket_id=ticket.id, payload={"from": old, "to": new})
    if "assignee" in changes:
        old, new = changes.changes["assignee"]
        uow.emit("ticket.assigned", ticket_id=ticket.id, payload={"from": old, "to": new})


def _check_requester_update(uow: UnitOfWork, ticket: Ticket, values: dict[str, Any]) -> None:
    refused = sorted(set(values) - {"status", "add_ccs", "remove_ccs"})
    if refused:
        raise PermissionDenied(f"only agents can change {', '.join(refused)}")
    if "status" in values:
        if ticket.requester_id != uow.actor_id:
            raise PermissionDenied("only the person who asked can mark the request solved or reopen it")
        target = workflow.status_named(uow, values["status"])
        if target.category not in (StatusCategory.SOLVED, StatusCategory.OPEN):
            raise PermissionDenied("requesters can only mark a ticket solved or reopen it")


def _apply(uow: UnitOfWork, ticket: Ticket, values: dict[str, Any], changes: ChangeSet, now: Any) -> None:
    if "subject" in values:
        changes.add("subject", ticket.subject, values["subject"].strip())
        ticket.subject = values["subject"].strip()
    if "status" in values:
        status = workflow.status_named(uow, values["status"])
        if status.id != ticket.status_id:
            workflow.check_move(ticket, status)
            changes.add("status", ticket.status.name, status.name)
            workflow.move(ticket, status, now)
    if "priority" in values:
        priority = workflow.priority_named(uow, values["priority"])
        changes.add("priority", ticket.priority.name, priority.name)
        ticket.priority = priority
    if "type" in values:
        ticket_type = workflow.type_named(uow, values["type"]) if values["type"] else None
        changes.add("type", ticket.type.name if ticket.type else None, ticket_type.name if ticket_type else None)
        ticket.type = ticket_type
    if "group" in values:
        group = group_named(uow, values["group"]) if values["group"] else None
        changes.add("group", ticket.group.name if ticket.group else None, group.name if group else None)
        ticket.group = group
    if "assignee" in values:
        assignee = person(uow, values["assignee"], field="assignee") if values["assignee"] else None
        changes.add(
            "assignee", ticket.assignee.email if ticket.assignee else None, assignee.email if assignee else None
        )
        ticket.assignee = assignee
    if "group" in values or "assignee" in values:
        check_assignee(uow, ticket.assignee, ticket.group)
    _apply_tags(uow, ticket, values, changes)
    _apply_ccs(uow, ticket, values, changes)


def _apply_tags(uow: UnitOfWork, ticket: Ticket, values: dict[str, Any], changes: ChangeSet) -> None:
    if not {"tags", "add_tags", "remove_tags"} & set(values):
        return
    before = [tag.name for tag in ticket.tags]
    names = {normalize_tag(name) for name in values["tags"]} if "tags" in values else set(before)
    names |= {normalize_tag(name) for name in values.get("add_tags", ())}
    names -= {normalize_tag(name) for name in values.get("remove_tags", ())}
    ticket.tags = tags_named(uow, sorted(names))
    changes.add("tags", before, [tag.name for tag in ticket.tags])


def _apply_ccs(uow: UnitOfWork, ticket: Ticket, values: dict[str, Any], changes: ChangeSet) -> None:
    if not {"add_ccs", "remove_ccs"} & set(values):
        return
    staff = bool(uow.actor is not None and uow.actor.is_staff)
    before = [user.email for user in ticket.ccs]
    removed = {email.lower() for email in values.get("remove_ccs", ())}
    kept = [user for user in ticket.ccs if user.email not in removed]
    for email in values.get("add_ccs", ()):
        user = person(uow, email, field="add_ccs", create=staff)
        if user not in kept and user.id != ticket.requester_id:
            kept.append(user)
    ticket.ccs = kept
    changes.add("ccs", before, sorted(user.email for user in kept))
