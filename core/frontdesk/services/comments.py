"""Replies and internal notes, and what they do to a ticket's status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached

from frontdesk import search
from frontdesk.attachments import store_uploads
from frontdesk.db import utcnow
from frontdesk.errors import PermissionDenied
from frontdesk.models import Comment, StatusCategory, Ticket
from frontdesk.schemas import load
from frontdesk.schemas.tickets import CommentCreateSchema
from frontdesk.services import workflow
from frontdesk.services.history import ChangeSet
from frontdesk.services.tickets import emit_changes, flush_ticket, get_ticket
from frontdesk.storage import Upload
from frontdesk.text import to_html
from frontdesk.uow import UnitOfWork

# A requester's reply puts these categories back to "open"; it reopens a solved ticket.
_REOPENED_BY_REQUESTER = (StatusCategory.PENDING, StatusCategory.SOLVED)
_INSERT_COMMENT = insert(Comment.__table__)
_COLUMNS = tuple(column.key for column in Comment.__table__.columns if column.key != "id")


def add_comment(uow: UnitOfWork, number: int, data: dict[str, Any], attachments: Sequence[Upload] = ()) -> Comment:
    """Add a public reply or an internal note (agents only), with files attached.

    A requester's reply reopens a solved or pending ticket; an agent's first public reply sets
    ``first_response_at`` and moves a new ticket to open. The files are stored before the comment
    is written (deleted again if the transaction does not commit); too many or too large files
    raise :class:`~frontdesk.errors.TooLarge`. Attachments share the comment's visibility.
    """
    if uow.actor is None:
        raise PermissionDenied("sign in to comment")
    values = load(CommentCreateSchema, data)
    ticket = get_ticket(uow, number)
    workflow.ensure_open_for_changes(ticket)
    staff = uow.can("tickets.work")
    if not values["public"] and not staff:
        raise PermissionDenied("only agents can add internal notes")
    now = utcnow()
    comment = Comment(
        ticket_id=ticket.id,
        author_id=uow.actor_id,
        body=to_html(values["body"], values["body_format"]),
        public=values["public"],
        channel=uow.source,
        created_at=now,
        attachments=store_uploads(uow, attachments) if attachments else [],
    )
    uow.desk.plugins.pm.hook.frontdesk_ticket_before_comment(ticket=ticket, comment=comment, actor=uow.actor, uow=uow)
    _write(uow, comment)
    changes = ChangeSet()
    if comment.public and uow.actor_id is not None:  # the clocks time rules measure from
        if uow.actor_id == ticket.requester_id:
            ticket.last_requester_reply_at = now
        elif staff:
            ticket.last_agent_reply_at = now
    if comment.public:
        with uow.session.no_autoflush:  # the status look-up must not write the ticket half-changed
            _status_after_reply(uow, ticket, staff, changes, now)
    ticket.updated_at = now
    flush_ticket(uow, ticket)
    uow.emit(
        "ticket.commented",
        ticket_id=ticket.id,
        payload={"comment_id": comment.id, "public": comment.public, "by_staff": staff},
    )
    if changes:
        emit_changes(uow, ticket, changes)
    search.index_comment(uow, comment)
    return comment


def _write(uow: UnitOfWork, comment: Comment) -> None:
    """Put the new comment in the session; one without files is written at once by a plain INSERT.

    Nothing in the action changes the comment again, so the ORM's flush (which costs several times
    the INSERT) is spared: the written row becomes a persistent instance of the session, as if
    loaded, and the ticket's own change can then be written without a flush too. The flush still
    writes a comment with files (and their rows), one a hook already added to the session, and one
    made where the unit of work says not to (:meth:`~frontdesk.uow.UnitOfWork.writes_directly`).
    """
    session = uow.session
    if comment.attachments or not inspect(comment).transient or not uow.writes_directly():
        session.add(comment)
        return
    values = {key: getattr(comment, key) for key in _COLUMNS}
    comment.id = session.connection().execute(_INSERT_COMMENT, values).inserted_primary_key[0]
    make_transient_to_detached(comment)
    session.add(comment)
    uow.wrote(comment, new=True)


def _status_after_reply(uow: UnitOfWork, ticket: Ticket, staff: bool, changes: ChangeSet, now: Any) -> None:
    if staff and uow.actor_id != ticket.requester_id:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        target = StatusCategory.OPEN if ticket.status_category == StatusCategory.NEW else None
    else:
        target = StatusCategory.OPEN if ticket.status_category in _REOPENED_BY_REQUESTER else None
    if target is not None:
        status = workflow.status_in(uow, target)
        changes.add("status", ticket.status.name, status.name)
        workflow.move(ticket, status, now)
