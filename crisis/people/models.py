"""People, their system permissions, response-role memberships and API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.enums import Permission
from crisis.permissions import grants


class Person(UserMixin, Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-cased (people.service normalises), so the unique key is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Bumped to end every session of this person server-side (logout everywhere, disabling).
    session_version: Mapped[int] = mapped_column(default=1)
    notify_email: Mapped[bool] = mapped_column(default=True)
    notify_in_app: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    permissions: Mapped[list[PersonPermission]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )
    roles: Mapped[list[RoleMembership]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def permission_names(self) -> set[str]:
        return {p.permission for p in self.permissions}

    def can(self, permission: Permission | str) -> bool:
        """Return whether the person holds a system permission (admin holds all)."""
        return grants(self.permission_names, permission)

    def holds_role(self, role: str) -> bool:
        return any(m.role == role for m in self.roles)

    def __repr__(self) -> str:
        return f"<Person {self.email}>"


class PersonPermission(Base):
    __tablename__ = "person_permissions"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(32), primary_key=True)

    person: Mapped[Person] = relationship(back_populates="permissions")


class RoleMembership(Base):
    """A person's place on a response-role roster: the primary, or a backup in rank order."""

    __tablename__ = "role_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64), index=True)
    is_backup: Mapped[bool] = mapped_column(default=False)
    # Lower ranks are asked first among backups.
    rank: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(back_populates="roles")

    __table_args__ = (UniqueConstraint("person_id", "role", name="uq_role_memberships_person_role"),)


class ApiToken(Base):
    """A bearer token: shown once at creation, only its SHA-256 kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    # "api": the whole JSON API within the person's permissions; "alerts": alert intake only.
    scope: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class LoginFailure(Base):
    """A failed sign-in; kept in the database so the rate limit holds across gunicorn workers."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        Index("ix_login_failures_email_ip_at", "email", "ip", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )
