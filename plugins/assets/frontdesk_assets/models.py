"""The plugin's tables: asset types and their attributes, assets, history, licence seats, relations, ticket links."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Base, UTCDateTime, utcnow
from frontdesk.models import Organization, User


class AssetType(Base):
    """A kind of asset (laptop, licence, service...) with its tag prefix and attribute schema.

    ``category`` decides what the type's assets can do: ``hardware`` is checked out to people,
    ``licence`` hands out seats, ``service`` is a configuration item that is never assigned.
    """

    __tablename__ = "assets_types"
    __table_args__ = (CheckConstraint("category IN ('hardware', 'licence', 'service')", name="category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(10), unique=True)
    category: Mapped[str] = mapped_column(String(16), default="hardware")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attributes: Mapped[list[AssetAttribute]] = relationship(
        back_populates="type", order_by="AssetAttribute.position, AssetAttribute.id", cascade="all, delete-orphan"
    )


class AssetAttribute(Base):
    """One custom field of an asset type: its kind, whether it is required, unique or indexed."""

    __tablename__ = "assets_attributes"
    __table_args__ = (
        UniqueConstraint("type_id", "name"),
        CheckConstraint("kind IN ('text', 'number', 'date', 'choice', 'person', 'asset')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("assets_types.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    # Indexed attributes (and unique ones) also get a row per asset in ``assets_attribute_values``.
    indexed: Mapped[bool] = mapped_column(Boolean, default=False)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    type: Mapped[AssetType] = relationship(back_populates="attributes")

    @property
    def searchable(self) -> bool:
        """Whether values live in the indexed value table too."""
        return self.indexed or self.unique


class Asset(Base):
    """A configuration item: a device, a licence or a service, with its lifecycle state and owner."""

    __tablename__ = "assets_assets"
    __table_args__ = (
        UniqueConstraint("model", "serial"),
        # The list: newest first, per type, per status; a person's assets; the warning scans.
        Index("ix_assets_assets_type_id", "type_id", "id"),
        Index("ix_assets_assets_status_id", "status", "id"),
        Index("ix_assets_assets_assigned", "assigned_to_id", "id"),
        Index("ix_assets_assets_return", "expected_return"),
        Index("ix_assets_assets_warranty", "warranty_end"),
        Index("ix_assets_assets_serial", "serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("assets_types.id"))
    asset_tag: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100), default="")
    manufacturer: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_return: Mapped[date | None] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"), index=True)
    vendor: Mapped[str] = mapped_column(String(100), default="")
    purchase_date: Mapped[date | None] = mapped_column(Date)
    purchase_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    warranty_end: Mapped[date | None] = mapped_column(Date)
    seats_total: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The return date / warranty end a warning was already emitted for (each warning fires once).
    loan_warned_for: Mapped[date | None] = mapped_column(Date)
    warranty_warned_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    type: Mapped[AssetType] = relationship(lazy="joined", innerjoin=True)
    # Loaded with the asset: every view of an asset shows them (and answers are built after the session ends).
    assigned_to: Mapped[User | None] = relationship(lazy="joined")
    organization: Mapped[Organization | None] = relationship(lazy="joined")


class AssetAttributeValue(Base):
    """An indexed copy of one attribute value, so lookups and uniqueness checks by attribute use an index."""

    __tablename__ = "assets_attribute_values"
    __table_args__ = (
        Index("ix_assets_attribute_values_text", "attribute_id", "value_text"),
        Index("ix_assets_attribute_values_number", "attribute_id", "value_number"),
    )

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"), primary_key=True)
    attribute_id: Mapped[int] = mapped_column(ForeignKey("assets_attributes.id", ondelete="CASCADE"), primary_key=True)
    value_text: Mapped[str | None] = mapped_column(String(200))
    value_number: Mapped[float | None] = mapped_column(Float)


class AssetHistory(Base):
    """One change of one asset: who, when, which field, from what to what."""

    __tablename__ = "assets_history"
    __table_args__ = (Index("ix_assets_history_asset", "asset_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(50))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class LicenceSeat(Base):
    """One seat of a licence, held by a person or installed on a device."""

    __tablename__ = "assets_licence_seats"
    __table_args__ = (
        UniqueConstraint("licence_id", "user_id"),
        UniqueConstraint("licence_id", "device_id"),
        CheckConstraint("(user_id IS NULL) <> (device_id IS NULL)", name="holder"),
        Index("ix_assets_licence_seats_user", "user_id"),
        Index("ix_assets_licence_seats_device", "device_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")
    device: Mapped[Asset | None] = relationship(foreign_keys=[device_id], lazy="joined")


class AssetRelation(Base):
    """A typed, directed relation between two configuration items: ``source`` <kind> ``target``."""

    __tablename__ = "assets_relations"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        CheckConstraint("source_id <> target_id", name="not_self"),
        CheckConstraint("kind IN ('depends_on', 'runs_on', 'connected_to', 'installed_on', 'part_of')", name="kind"),
        Index("ix_assets_relations_target", "target_id", "kind", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source: Mapped[Asset] = relationship(foreign_keys=[source_id], lazy="joined", innerjoin=True)
    target: Mapped[Asset] = relationship(foreign_keys=[target_id], lazy="joined", innerjoin=True)


class AssetTicketLink(Base):
    """A ticket that concerns a configuration item (an incident names the CIs it affects)."""

    __tablename__ = "assets_ticket_links"
    __table_args__ = (Index("ix_assets_ticket_links_ticket", "ticket_id", "asset_id"),)

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets_assets.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
