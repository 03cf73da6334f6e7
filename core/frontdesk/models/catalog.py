"""The revision token of the ticket catalog (statuses, priorities, types, groups) that processes cache."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base


class CatalogRevision(Base):
    """One row whose ``token`` database triggers replace with a random number on every catalog change.

    Processes keep the catalog in memory and re-read it when the token differs from the one they
    saw (see :mod:`frontdesk.catalog_cache`); the triggers are made by migration 0008.
    """

    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)
