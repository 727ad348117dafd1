"""The audit trail's one table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import AppendOnly, AppendOnlyViolation, Base
from crisis.people.models import Person


class AuditEvent(AppendOnly, Base):
    """One admin action: who did what to whom, when. Append-only, like the timeline."""

    __tablename__ = "audit_events"
    append_only_label = "audit events"

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


# The audit trail's name for the shared append-only refusal.
AuditRewrite = AppendOnlyViolation
