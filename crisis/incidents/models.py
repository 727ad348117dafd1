"""Incidents, their source links and their step instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.enums import OPEN_STATUSES, Applicability, IncidentStatus, Severity, StepStatus
from crisis.people.models import Person
from crisis.playbooks.models import PlaybookVersion


class IncidentCounter(Base):
    """The last reference number handed out per year (INC-YYYY-NNNN), bumped atomically."""

    __tablename__ = "incident_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8), default=Severity.SEV3.value)
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.DECLARED.value, index=True)
    playbook_version_id: Mapped[int] = mapped_column(ForeignKey("playbook_versions.id"))
    triage_owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    declared_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    is_drill: Mapped[bool] = mapped_column(default=False)
    # Answers to the playbook's triage questions, question key -> chosen value.
    triage_answers: Mapped[dict[str, Any]] = mapped_column(default=dict)

    playbook_version: Mapped[PlaybookVersion] = relationship(lazy="joined")
    triage_owner: Mapped[Person | None] = relationship(foreign_keys=[triage_owner_id], lazy="joined")
    declared_by: Mapped[Person | None] = relationship(foreign_keys=[declared_by_id])
    links: Mapped[list[IncidentLink]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentLink.id"
    )
    steps: Mapped[list[IncidentStep]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentStep.position"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def step(self, key: str) -> IncidentStep | None:
        return next((s for s in self.steps if s.key == key), None)


class IncidentLink(Base):
    """Where the crisis is happening: a platform and the URL of the post or thread."""

    __tablename__ = "incident_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(String(2000))

    incident: Mapped[Incident] = relationship(back_populates="links")


class IncidentStep(Base):
    """One playbook step in one incident: who owns it, by when, and where it stands."""

    __tablename__ = "incident_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING.value)
    activated_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    # Whether the step's `when` holds: "applies"; "excluded" (then it is skipped automatically
    # and counts as finished); "undecided" while it waits on an unanswered triage question (it
    # stays pending and holds up its dependents). Re-evaluated when severity or answers change.
    applicability: Mapped[str] = mapped_column(String(16), default=Applicability.APPLIES.value)
    blocked_reason: Mapped[str] = mapped_column(Text, default="")
    # Escalation state; the sweep claims a level with a compare-and-set on escalation_level.
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None]
    # When the owner is reminded that the step falls due soon; cleared (compare-and-set) once sent.
    remind_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="steps")
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id], lazy="joined")
    completed_by: Mapped[Person | None] = relationship(foreign_keys=[completed_by_id])

    __table_args__ = (
        UniqueConstraint("incident_id", "key", name="uq_incident_steps_incident_key"),
        # "What is due now" is one index range scan, whatever the number of open steps.
        Index("ix_incident_steps_next_escalation_at", "next_escalation_at"),
        Index("ix_incident_steps_remind_at", "remind_at"),
    )

    @property
    def is_finished(self) -> bool:
        return self.status in (StepStatus.DONE, StepStatus.SKIPPED)

    @property
    def applies(self) -> bool | None:
        """True, False, or None while the triage answers it depends on are missing."""
        return {Applicability.APPLIES: True, Applicability.EXCLUDED: False}.get(self.applicability)
