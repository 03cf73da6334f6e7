"""Turning what people type (e-mail addresses, organization names, asset tags) into ids, a batch at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select

from frontdesk.models import Organization, User
from frontdesk.uow import UnitOfWork
from frontdesk_assets.models import Asset

CHUNK = 5_000  # values per IN (...) list: well under SQLite's bound-parameter limit


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``values`` in lists of at most ``size``."""
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Lookups:
    """Caches of users by e-mail, organizations by name and asset ids by tag for one action.

    ``prefetch`` loads everything a batch of rows names in a few queries; a name not prefetched is
    looked up on first use, so single edits and bulk imports share one code path.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.users: dict[str, int | None] = {}
        self.organizations: dict[str, int | None] = {}
        self.assets: dict[str, int | None] = {}

    def prefetch(self, emails: Iterable[str], organizations: Iterable[str], tags: Iterable[str]) -> None:
        """Load every user, organization and asset named, in chunks."""
        session = self.uow.session
        wanted = {e.lower() for e in emails if e} - self.users.keys()
        for batch in chunks(wanted):
            rows = session.execute(select(func.lower(User.email), User.id).where(func.lower(User.email).in_(batch)))
            self.users.update(dict(rows.all()))
        self.users.update(dict.fromkeys(wanted - self.users.keys()))
        names = {n for n in organizations if n} - self.organizations.keys()
        for batch in chunks(names):
            rows = session.execute(select(Organization.name, Organization.id).where(Organization.name.in_(batch)))
            self.organizations.update(dict(rows.all()))
        self.organizations.update(dict.fromkeys(names - self.organizations.keys()))
        asset_tags = {t for t in tags if t} - self.assets.keys()
        for batch in chunks(asset_tags):
            rows = session.execute(select(Asset.asset_tag, Asset.id).where(Asset.asset_tag.in_(batch)))
            self.assets.update(dict(rows.all()))
        self.assets.update(dict.fromkeys(asset_tags - self.assets.keys()))

    def user_id(self, email: str) -> int | None:
        """The id of the user with this e-mail address (any case), or None."""
        key = email.lower()
        if key not in self.users:
            self.prefetch([key], (), ())
        return self.users[key]

    def organization_id(self, name: str) -> int | None:
        """The id of the organization with this name, or None."""
        if name not in self.organizations:
            self.prefetch((), [name], ())
        return self.organizations[name]

    def asset_id(self, tag: str) -> int | None:
        """The id of the asset with this tag, or None."""
        if tag not in self.assets:
            self.prefetch((), (), [tag])
        return self.assets[tag]
