"""Security records: the admin audit trail and failed sign-ins (for the login rate limit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from crisis import clock
from crisis.database import Base
from crisis.people.models import Person


class AuditEvent(Base):
    """One admin action: who did what to whom, when. Append-only, like the timeline."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[Person | None] = relationship(lazy="joined")

    @property
    def actor_name(self) -> str:
        if self.actor is not None:
            return self.actor.email
        return self.actor_label or "system"


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


class AuditRewrite(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _forbid_audit_rewrites(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse any flush that updates or deletes an AuditEvent: the audit trail is append-only."""
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditRewrite("audit events are append-only; this one was modified")
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditRewrite("audit events are append-only; this one was deleted")


@event.listens_for(Session, "do_orm_execute")
def _forbid_bulk_audit_rewrites(state: Any) -> None:
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None) == AuditEvent.__tablename__:
            raise AuditRewrite("audit events are append-only; bulk rewrite refused")
