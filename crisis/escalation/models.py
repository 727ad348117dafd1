"""Escalation records and the scheduler's heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crisis import clock
from crisis.db.base import Base


class StepEscalation(Base):
    """One fired escalation level of one step; the unique key makes a second firing impossible."""

    __tablename__ = "step_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("incident_steps.id", ondelete="CASCADE"))
    level: Mapped[int]
    fired_at: Mapped[datetime] = mapped_column(default=clock.now)
    due_at: Mapped[datetime | None]
    # Ids of the people this level notified, so a later level can reach someone new.
    notified: Mapped[list[Any] | None]

    __table_args__ = (UniqueConstraint("step_id", "level", name="uq_step_escalations_step_level"),)


# The heartbeat row the escalation sweep writes and the health check reads.
SWEEP_JOB = "escalation-sweep"


class SchedulerHeartbeat(Base):
    """When each scheduler job last completed; /health reads it as a dead-man's switch."""

    __tablename__ = "scheduler_heartbeats"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_completed_at: Mapped[datetime] = mapped_column(default=clock.now)
    process: Mapped[str] = mapped_column(String(200), default="")
