"""Telling people what happened: notification kinds with admin-editable templates, sent through channels.

The core delivers in-app (the bell in the web UI, written in the same transaction); plugins add
channels (e-mail, chat) through ``frontdesk_notification_channels``, delivered by a background job
after commit. Notifying the same person about the same ticket is rate-limited, so a loop or a burst
of changes cannot flood anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from frontdesk.automation.templates import check, person, render, ticket_values
from frontdesk.db import utcnow
from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import GroupMembership, Notification, NotificationTemplate, Ticket, User

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.uow import UnitOfWork

IN_APP = "inapp"
RATE_WINDOW = timedelta(hours=1)
RATE_LIMIT = 10  # notifications per person and ticket within the window


@dataclass(frozen=True)
class Notice:
    """One notification for one person, rendered; what a channel delivers."""

    kind: str
    user_id: int
    email: str
    name: str
    ticket_id: int | None
    subject: str
    body: str


@dataclass(frozen=True)
class NotificationChannel:
    """A way to reach people (``email``...): ``deliver(desk, notice)`` runs in a background job, retried on errors."""

    name: str
    label: str
    deliver: Callable[[Desk, Notice], None]


@dataclass(frozen=True)
class Template:
    """The default wording of a notification kind; admins override subject and body."""

    kind: str
    audience: str
    subject: str
    body: str


DEFAULT_TEMPLATES: dict[str, Template] = {
    t.kind: t
    for t in (
        Template(
            "ticket.received",
            "requester",
            "[#{{ ticket.number }}] We received your request: {{ ticket.subject }}",
            "Hello {{ recipient.name }},\n\nthank you for contacting us. Your request #{{ ticket.number }} "
            "has been received and will be answered as soon as possible.\n",
        ),
        Template(
            "ticket.agent_replied",
            "requester",
            "[#{{ ticket.number }}] New reply: {{ ticket.subject }}",
            "Hello {{ recipient.name }},\n\n{{ comment }}\n\nReply to this message to answer.\n",
        ),
        Template(
            "ticket.solved",
            "requester",
            "[#{{ ticket.number }}] Is your issue resolved? {{ ticket.subject }}",
            "Hello {{ recipient.name }},\n\nwe marked your request #{{ ticket.number }} as solved. "
            "If it is not resolved, just reply and it opens again.\n",
        ),
        Template(
            "ticket.assigned",
            "agent",
            "[#{{ ticket.number }}] Assigned to you: {{ ticket.subject }}",
            "Ticket #{{ ticket.number }} from {{ ticket.requester.name }} is now yours.\n",
        ),
        Template(
            "ticket.new_in_group",
            "agent",
            "[#{{ ticket.number }}] New in {{ ticket.group }}: {{ ticket.subject }}",
            "{{ ticket.requester.name }} opened ticket #{{ ticket.number }} in {{ ticket.group }}.\n",
        ),
        Template(
            "ticket.requester_replied",
            "agent",
            "[#{{ ticket.number }}] {{ ticket.requester.name }} replied: {{ ticket.subject }}",
            "{{ comment }}\n",
        ),
        Template(
            "ticket.reminder",
            "requester",
            "[#{{ ticket.number }}] We are waiting for your answer: {{ ticket.subject }}",
            "Hello {{ recipient.name }},\n\nwe need a little more from you to go on with request "
            "#{{ ticket.number }}. Reply to this message to answer.\n",
        ),
        Template(
            "ticket.escalated",
            "agent",
            "[#{{ ticket.number }}] Escalated to {{ ticket.group }}: {{ ticket.subject }}",
            "Ticket #{{ ticket.number }} was escalated to {{ ticket.group }}. {{ reason }}\n",
        ),
    )
}


def template_for(uow: UnitOfWork, kind: str) -> Template:
    """The wording of ``kind``: the admin's, or the default."""
    default = DEFAULT_TEMPLATES.get(kind)
    stored = uow.session.get(NotificationTemplate, kind)
    if stored is not None:
        return Template(kind, default.audience if default else "anyone", stored.subject, stored.body)
    if default is None:
        raise NotFound(f"no notification template {kind!r}")
    return default


def set_template(uow: UnitOfWork, kind: str, subject: str, body: str) -> NotificationTemplate:
    """Store the admin's wording of a notification kind (validated by rendering it once)."""
    uow.require("automation.manage")
    if kind not in DEFAULT_TEMPLATES:
        raise NotFound(f"no notification template {kind!r}")
    if not subject.strip() or len(subject.strip()) > 250:
        raise ValidationError({"subject": ["a subject of 1 to 250 characters is required"]})
    check(subject, "subject")
    check(body, "body")
    stored = uow.session.get(NotificationTemplate, kind) or NotificationTemplate(kind=kind)
    stored.subject, stored.body, stored.updated_at = subject.strip(), body, utcnow()
    uow.session.add(stored)
    uow.emit("notification_template.updated", payload={"kind": kind})
    return stored


def reset_template(uow: UnitOfWork, kind: str) -> None:
    """Go back to the default wording of a notification kind."""
    uow.require("automation.manage")
    if kind not in DEFAULT_TEMPLATES:
        raise NotFound(f"no notification template {kind!r}")
    stored = uow.session.get(NotificationTemplate, kind)
    if stored is not None:
        uow.session.delete(stored)
        uow.session.flush()
        uow.emit("notification_template.reset", payload={"kind": kind})


def notify(
    uow: UnitOfWork,
    kind: str,
    recipients: Iterable[User],
    ticket: Ticket | None,
    extra: dict[str, Any] | None = None,
) -> list[Notice]:
    """Notify each recipient about ``ticket`` with the ``kind`` template: in-app now, other channels after commit.

    The acting user is never notified of their own action; a person already notified
    ``RATE_LIMIT`` times about this ticket within the hour is skipped.
    """
    template = template_for(uow, kind)
    sent = []
    for user in {u.id: u for u in recipients if u is not None and u.active}.values():
        if user.id == uow.actor_id or _over_limit(uow, user, ticket):
            continue
        values = {
            "ticket": ticket_values(ticket) if ticket else {},
            "recipient": person(user),
            "actor": person(uow.actor),
            **(extra or {}),
        }
        notice = Notice(
            kind=kind,
            user_id=user.id,
            email=user.email,
            name=user.name,
            ticket_id=ticket.id if ticket else None,
            subject=render(template.subject, values, "subject").strip()[:250],
            body=render(template.body, values),
        )
        uow.session.add(
            Notification(
                user_id=user.id, ticket_id=notice.ticket_id, kind=kind, subject=notice.subject, body=notice.body
            )
        )
        for channel in uow.desk.plugins.calls.collect("frontdesk_notification_channels"):
            uow.enqueue("notifications.deliver", channel=channel.name, notice=notice.__dict__)
        sent.append(notice)
    return sent


RECIPIENTS = ("requester", "assignee", "group", "ccs")


def recipients(uow: UnitOfWork, ticket: Ticket, who: list[str]) -> list[User]:
    """The people behind recipient names: the requester, the assignee, the group's agents, the CCs."""
    found: list[User] = []
    if "requester" in who:
        found.append(ticket.requester)
    if "assignee" in who and ticket.assignee is not None:
        found.append(ticket.assignee)
    if "ccs" in who:
        found.extend(ticket.ccs)
    if "group" in who and ticket.group_id is not None:
        found.extend(
            uow.session.scalars(
                select(User)
                .join(GroupMembership, GroupMembership.user_id == User.id)
                .where(GroupMembership.group_id == ticket.group_id, User.active.is_(True))
            )
        )
    return found


def _over_limit(uow: UnitOfWork, user: User, ticket: Ticket | None) -> bool:
    if ticket is None:
        return False
    recent = uow.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id,
            Notification.ticket_id == ticket.id,
            Notification.created_at > utcnow() - RATE_WINDOW,
        )
    )
    return (recent or 0) >= RATE_LIMIT


def deliver(desk: Desk, channel: str, notice: dict[str, Any]) -> None:
    """The background job: hand one notice to a plugin's channel (retried with backoff when it raises)."""
    for found in desk.plugins.calls.collect("frontdesk_notification_channels"):
        if found.name == channel:
            found.deliver(desk, Notice(**notice))
            return
    raise NotFound(f"no notification channel {channel!r} (is its plugin disabled?)")


def unread(uow: UnitOfWork, limit: int = 20) -> tuple[int, list[Notification]]:
    """The acting user's unread count and newest notifications."""
    user_id = uow.actor_id
    if user_id is None:
        return 0, []
    count = uow.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    newest = uow.session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
    ).all()
    return count or 0, list(newest)


def mark_read(uow: UnitOfWork, ids: Iterable[int] | None = None) -> int:
    """Mark the acting user's notifications read (these ids, or all); return how many changed."""
    query = update(Notification).where(Notification.user_id == uow.actor_id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    return uow.session.execute(query.values(read_at=utcnow())).rowcount
