"""Things an agent keeps for themselves or an admin shares with every agent (macros, saved views).

The models have an ``owner_id`` (None: shared) and a ``name`` unique per owner, regardless of case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from frontdesk.errors import NotFound, ValidationError
from frontdesk.uow import UnitOfWork


def usable(model: Any, actor_id: int | None) -> ColumnElement[bool]:
    """The rows the acting agent can use: the shared ones and their own."""
    return or_(model.owner_id.is_(None), model.owner_id == actor_id)


def owned_by(model: Any, owner_id: int | None) -> ColumnElement[bool]:
    """The rows of one owner (None: the shared ones)."""
    return model.owner_id.is_(None) if owner_id is None else model.owner_id == owner_id


def get_usable(uow: UnitOfWork, model: Any, item_id: int, noun: str) -> Any:
    """One row the acting agent can use; anyone else's is not found, like a missing one."""
    item = uow.session.get(model, item_id)
    if item is None or (item.owner_id is not None and item.owner_id != uow.actor_id):
        raise NotFound(f"no {noun} #{item_id}")
    return item


def check_unique_name(
    uow: UnitOfWork, model: Any, name: str, owner_id: int | None, noun: str, exclude_id: int | None = None
) -> None:
    """Raise a validation error on ``name`` when the owner already has one called that (any case)."""
    query = select(model.id).where(owned_by(model, owner_id), func.lower(model.name) == name.lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if uow.session.scalar(query) is not None:
        raise ValidationError({"name": [f"a {noun} named {name!r} exists already"]})
