"""The append-only timeline: every change to an incident is one TimelineEvent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from crisis import clock
from crisis.database import Base
from crisis.people.models import Person


class TimelineEvent(Base):
    __tablename__ = "timeline_events"

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

    __table_args__ = (Index("ix_timeline_events_incident_at", "incident_id", "at", "id"),)

    @property
    def actor_name(self) -> str:
        if self.actor is not None:
            return self.actor.email
        return self.actor_label or "system"


class AppendOnlyViolation(RuntimeError):
    """Raised when code tries to change or delete a timeline event."""


@event.listens_for(Session, "before_flush")
def _forbid_timeline_rewrites(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse any flush that updates or deletes a TimelineEvent: the timeline is append-only."""
    for obj in session.dirty:
        if isinstance(obj, TimelineEvent) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation("timeline events are append-only; this one was modified")
    for obj in session.deleted:
        if isinstance(obj, TimelineEvent):
            raise AppendOnlyViolation("timeline events are append-only; this one was deleted")


@event.listens_for(TimelineEvent, "before_update")
def _forbid_update(mapper: Any, connection: Any, target: TimelineEvent) -> None:
    raise AppendOnlyViolation("timeline events are append-only")


@event.listens_for(TimelineEvent, "before_delete")
def _forbid_delete(mapper: Any, connection: Any, target: TimelineEvent) -> None:
    raise AppendOnlyViolation("timeline events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _forbid_bulk_rewrites(state: Any) -> None:
    """Refuse ORM-level bulk UPDATE/DELETE statements against the timeline table too."""
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and getattr(table, "name", None) == TimelineEvent.__tablename__:
            raise AppendOnlyViolation("timeline events are append-only; bulk rewrite refused")
