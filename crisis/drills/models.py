"""A drill run (one exercise of a scenario) and its injects, each posted once at its time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.incidents.models import Incident
from crisis.people.models import Person


class DrillRun(Base):
    """One exercise of a scenario: its drill incident, who started it, when it ended."""

    __tablename__ = "drill_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    scenario_key: Mapped[str] = mapped_column(String(64), index=True)
    scenario_title: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    ended_at: Mapped[datetime | None]
    ended_early: Mapped[bool] = mapped_column(default=False)

    incident: Mapped[Incident] = relationship(lazy="joined")
    started_by: Mapped[Person | None] = relationship()
    injects: Mapped[list[DrillInject]] = relationship(
        back_populates="run", order_by="DrillInject.position", lazy="selectin", cascade="all, delete-orphan"
    )


class DrillInject(Base):
    """Something that happens during the drill; the sweep posts it once when `due_at` passes."""

    __tablename__ = "drill_injects"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    roles: Mapped[str] = mapped_column(String(500), default="")  # comma-separated response roles
    due_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]

    run: Mapped[DrillRun] = relationship(back_populates="injects")

    __table_args__ = (
        UniqueConstraint("run_id", "key", name="uq_drill_injects_run_key"),
        Index("ix_drill_injects_due", "posted_at", "due_at"),
    )
