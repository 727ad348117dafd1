"""A post-incident review and its follow-up actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.incidents.models import Incident
from crisis.people.models import Person


class PostIncidentReview(Base):
    """One review per incident, written after resolution; SEV1/SEV2 cannot close without it."""

    __tablename__ = "post_incident_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    what_happened: Mapped[str] = mapped_column(Text)
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_change: Mapped[str] = mapped_column(Text, default="")
    training_needs: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    incident: Mapped[Incident] = relationship(lazy="joined")
    author: Mapped[Person | None] = relationship(foreign_keys=[author_id], lazy="joined")
    actions: Mapped[list[ReviewAction]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewAction.position", lazy="selectin"
    )
    versions: Mapped[list[ReviewVersion]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewVersion.number"
    )


class ReviewAction(Base):
    """A follow-up action from a review: what, who owns it, by when."""

    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("post_incident_reviews.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    due_on: Mapped[date]

    review: Mapped[PostIncidentReview] = relationship(back_populates="actions")
    owner: Mapped[Person] = relationship(lazy="joined")


class ReviewVersion(Base):
    """Every save of a review, as saved: who, when, which fields changed and (after close) why."""

    __tablename__ = "review_versions"
    __table_args__ = (UniqueConstraint("review_id", "number", name="uq_review_versions_review_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("post_incident_reviews.id", ondelete="CASCADE"))
    number: Mapped[int]
    what_happened: Mapped[str] = mapped_column(Text)
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_change: Mapped[str] = mapped_column(Text, default="")
    training_needs: Mapped[str] = mapped_column(Text, default="")
    # [{description, owner (email), due_on}] as saved: the people may change, the record may not.
    actions: Mapped[list[Any]] = mapped_column(default=list)
    changed: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    edited_at: Mapped[datetime] = mapped_column(default=clock.now)

    review: Mapped[PostIncidentReview] = relationship(back_populates="versions")
    edited_by: Mapped[Person | None] = relationship(lazy="joined")
