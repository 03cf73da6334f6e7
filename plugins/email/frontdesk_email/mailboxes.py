"""Mailboxes: the desk's addresses and the IMAP folders their mail is fetched from (admins: ``email.manage``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import Group
from frontdesk.schemas import load
from frontdesk.text import whole_number
from frontdesk.uow import UnitOfWork
from frontdesk_email import imap
from frontdesk_email.models import Mailbox

PERMISSION = "email.manage"
SECURITY = ("tls", "starttls", "none")


class MailboxSchema(Schema):
    """A mailbox as admins enter it; the group is given by name, the password or the variable holding it."""

    name = fields.String(required=True, validate=validate.Length(1, 100))
    address = fields.Email(required=True, validate=validate.Length(3, 320))
    group = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    imap_host = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    imap_port = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 65535))
    imap_security = fields.String(load_default="tls", validate=validate.OneOf(SECURITY))
    imap_username = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=320))
    imap_password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    imap_password_env = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
    )
    imap_folder = fields.String(load_default="INBOX", validate=validate.Length(1, 255))
    processed_folder = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    paused = fields.Boolean(load_default=False)


def list_mailboxes(uow: UnitOfWork) -> list[Mailbox]:
    """Every mailbox, by name."""
    uow.require(PERMISSION)
    return list(uow.session.scalars(select(Mailbox).order_by(Mailbox.name)))


def get_mailbox(uow: UnitOfWork, mailbox_id: int) -> Mailbox:
    """One mailbox; :class:`NotFound` if there is none with this id."""
    uow.require(PERMISSION)
    mailbox = uow.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound(f"no mailbox #{mailbox_id}")
    return mailbox


def find_mailbox(uow: UnitOfWork, name_or_id: str) -> Mailbox:
    """A mailbox by id, name or address (the CLI's way of naming one)."""
    uow.require(PERMISSION)
    found = lookup(uow.session, name_or_id)
    if found is None:
        raise NotFound(f"no mailbox named {name_or_id!r}")
    return found


def lookup(session: Session, name_or_id: str) -> Mailbox | None:
    """The mailbox with this id, name or address, else None.

    Checks no permission: also used where mail arrives (the webhook, the MTA pipe) to tell which
    mailbox it was sent to.
    """
    number = whole_number(name_or_id)
    if number is not None:
        return session.get(Mailbox, number)
    return session.scalar(select(Mailbox).where((Mailbox.name == name_or_id) | (Mailbox.address == name_or_id.lower())))


def add_mailbox(uow: UnitOfWork, data: dict[str, Any]) -> Mailbox:
    """Create a mailbox; names and addresses are unique, the group must exist."""
    uow.require(PERMISSION)
    values = load(MailboxSchema, data)
    mailbox = Mailbox()
    _apply(uow, mailbox, values)
    uow.session.add(mailbox)
    uow.session.flush()
    uow.emit("email.mailbox_added", payload={"mailbox_id": mailbox.id, "address": mailbox.address})
    return mailbox


def edit_mailbox(uow: UnitOfWork, mailbox_id: int, data: dict[str, Any]) -> Mailbox:
    """Change some fields of a mailbox; a blank password keeps the stored one."""
    mailbox = get_mailbox(uow, mailbox_id)
    values = load(MailboxSchema, data, partial=True)
    if not values.get("imap_password"):
        values.pop("imap_password", None)
    _apply(uow, mailbox, values)
    uow.session.flush()
    uow.emit("email.mailbox_changed", payload={"mailbox_id": mailbox.id, "fields": sorted(values)})
    return mailbox


def set_paused(uow: UnitOfWork, mailbox_id: int, paused: bool) -> Mailbox:
    """Pause a mailbox (no more polling) or resume it."""
    mailbox = get_mailbox(uow, mailbox_id)
    mailbox.paused = paused
    uow.emit("email.mailbox_paused" if paused else "email.mailbox_resumed", payload={"mailbox_id": mailbox.id})
    return mailbox


def delete_mailbox(uow: UnitOfWork, mailbox_id: int) -> None:
    """Delete a mailbox; its messages and sent mail stay (they just no longer name it)."""
    mailbox = get_mailbox(uow, mailbox_id)
    uow.session.delete(mailbox)
    uow.emit("email.mailbox_deleted", payload={"mailbox_id": mailbox_id, "address": mailbox.address})


@dataclass(frozen=True)
class ConnectionResult:
    """How trying a mailbox's IMAP server went, in a sentence."""

    ok: bool
    message: str


def test_connection(uow: UnitOfWork, mailbox_id: int) -> ConnectionResult:
    """Log in to the mailbox's IMAP server and open its folder; never raises for a server problem."""
    mailbox = get_mailbox(uow, mailbox_id)
    try:
        return ConnectionResult(True, imap.check(mailbox))
    except Exception as exc:
        return ConnectionResult(False, f"{mailbox.name}: {type(exc).__name__}: {exc}")


def _apply(uow: UnitOfWork, mailbox: Mailbox, values: dict[str, Any]) -> None:
    if "group" in values:
        group = values.pop("group")
        mailbox.group_id = _group_id(uow, group) if group else None
    if "address" in values:
        values["address"] = values["address"].lower()
    if values.get("imap_port") is None and "imap_port" in values:
        values["imap_port"] = 143 if values.get("imap_security", mailbox.imap_security) == "none" else 993
    for field, value in values.items():
        setattr(mailbox, field, value.strip() if isinstance(value, str) else value)
    if mailbox.imap_host and not mailbox.imap_username:
        raise ValidationError({"imap_username": ["an IMAP mailbox needs a user name"]})
    for field in ("name", "address"):
        clash = select(Mailbox.id).where(getattr(Mailbox, field) == getattr(mailbox, field))
        if mailbox.id is not None:
            clash = clash.where(Mailbox.id != mailbox.id)
        with uow.session.no_autoflush:  # ask before the changed row meets the unique index
            if uow.session.scalar(clash.limit(1)) is not None:
                raise ValidationError({field: [f"another mailbox has this {field}"]})


def _group_id(uow: UnitOfWork, name: str) -> int:
    group_id = uow.session.scalar(select(Group.id).where(Group.name == name))
    if group_id is None:
        raise ValidationError({"group": [f"there is no group {name!r}"]})
    return group_id
