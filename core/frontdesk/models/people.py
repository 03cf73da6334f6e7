"""People: users with a role, the organizations requesters belong to, and groups (queues) of agents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    """What a person is to the desk; permissions derive from it."""

    ADMIN = "admin"
    AGENT = "agent"
    REQUESTER = "requester"


class Organization(Base):
    """A customer organization; when ``shared``, its requesters see each other's tickets."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organization")


class User(Base):
    """A person who signs in or who asks for help: admin, agent or requester."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'agent', 'requester')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.REQUESTER.value)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    all_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True, default=None
    )
    # Bumped to invalidate every session of this user ("log out everywhere").
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization | None] = relationship(back_populates="members")
    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # The identity protocol session layers (such as Flask-Login) expect.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Session identity: id and session epoch, so bumping the epoch ends every session."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """Agents and admins: the people who work tickets."""
        return self.role in (Role.ADMIN, Role.AGENT)

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role})>"


class Group(Base):
    """A team and its ticket queue; agents see the tickets of the groups they belong to.

    ``escalates_to`` arranges groups as support levels (L1 -> L2 -> L3): escalating a ticket moves it there.
    """

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    escalates_to_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    escalates_to: Mapped[Group | None] = relationship(remote_side=[id])
    memberships: Mapped[list[GroupMembership]] = relationship(back_populates="group", cascade="all, delete-orphan")


class GroupMembership(Base):
    """An agent's membership of a group."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # round-robin assignment turns

    group: Mapped[Group] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")
