"""A completed course: who, which course, when, until when it counts, who recorded it and why."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.people.models import Person


class TrainingCompletion(Base):
    """One completion of a course; `expires_at` is fixed when it is recorded, like a certificate."""

    __tablename__ = "training_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(64))
    completed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20))  # web, api, cli, drill, spokespeople
    evidence: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    recorded_by_label: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    reminded_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    recorded_by: Mapped[Person | None] = relationship(foreign_keys=[recorded_by_id], lazy="joined")

    __table_args__ = (
        Index("ix_training_completions_person_course", "person_id", "course_key"),
        Index("ix_training_completions_expires_at", "expires_at"),
    )


class TrainingAssignment(Base):
    """A course a person must complete by a date, usually from a review's training needs."""

    __tablename__ = "training_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    course_key: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date]
    review_id: Mapped[int | None] = mapped_column(ForeignKey("post_incident_reviews.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=clock.now)
    done_at: Mapped[datetime | None]
    completion_id: Mapped[int | None] = mapped_column(ForeignKey("training_completions.id", ondelete="SET NULL"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    assigned_by: Mapped[Person | None] = relationship(foreign_keys=[assigned_by_id])
