"""Policy versions and who acknowledged which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.people.models import Person


class PolicyVersion(Base):
    """One published text of the social media policy; the highest number is in force."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=clock.now)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    published_by_label: Mapped[str] = mapped_column(String(200), default="")

    published_by: Mapped[Person | None] = relationship()


class PolicyAcknowledgement(Base):
    """A person's acknowledgement that they read one version."""

    __tablename__ = "policy_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=clock.now)

    version: Mapped[PolicyVersion] = relationship()
    person: Mapped[Person] = relationship()

    __table_args__ = (UniqueConstraint("version_id", "person_id", name="uq_policy_acknowledgements_version_person"),)
