"""A completed course: who, which course, when, until when it counts, who recorded it and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.database import Base
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
