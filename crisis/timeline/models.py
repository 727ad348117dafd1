"""The append-only timeline: every change to an incident is one TimelineEvent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import AppendOnly, AppendOnlyViolation, Base
from crisis.people.models import Person


class TimelineEvent(AppendOnly, Base):
    __tablename__ = "timeline_events"
    append_only_label = "timeline events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    kind: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # Who acted when it was no person: "scheduler", "alertmanager", "system".
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[Person | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_timeline_events_incident_at", "incident_id", "at", "id"),
        # An incident's newest event in one index probe: the live pages' change stamp.
        Index("ix_timeline_events_incident_id_id", "incident_id", "id"),
    )

    @property
    def actor_name(self) -> str:
        if self.actor is not None:
            return self.actor.email
        return self.actor_label or "system"


__all__ = ["AppendOnlyViolation", "TimelineEvent"]
