"""Public statements, their versions and approvals, spokesperson authorisations and the holding-statement library."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.enums import ApprovalStatus, StatementStatus  # noqa: F401  (re-exported: callers import them from here)
from crisis.incidents.models import Incident
from crisis.people.models import Person


class Statement(Base):
    """A drafted public response on one incident, for one platform."""

    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    # The playbook step it was drafted for (its template, its approvers); None for a blank draft.
    step_key: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=StatementStatus.DRAFT.value)
    # The number of the current StatementVersion; approvals are given to one version.
    version: Mapped[int] = mapped_column(default=1)
    holding_statement_id: Mapped[int | None] = mapped_column(ForeignKey("holding_statements.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    rejected_reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    published_url: Mapped[str] = mapped_column(String(2000), default="")

    incident: Mapped[Incident] = relationship()
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[Person | None] = relationship(foreign_keys=[published_by_id])
    holding_statement: Mapped[HoldingStatement | None] = relationship()
    versions: Mapped[list[StatementVersion]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="StatementVersion.number"
    )
    approvals: Mapped[list[StatementApproval]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="StatementApproval.id"
    )


class StatementVersion(Base):
    """One wording of a statement; every edit adds one, none is ever changed."""

    __tablename__ = "statement_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(50))
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    edited_at: Mapped[datetime] = mapped_column(default=clock.now)

    statement: Mapped[Statement] = relationship(back_populates="versions")
    edited_by: Mapped[Person | None] = relationship()

    __table_args__ = (
        UniqueConstraint("statement_id", "number", name="uq_statement_versions_statement_number"),
    )


class StatementApproval(Base):
    """One approver role's sign-off on a statement; escalates like an overdue step while pending."""

    __tablename__ = "statement_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ApprovalStatus.PENDING.value)
    # The statement version the decision was given to.
    version: Mapped[int | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    # Bumped each time the approval is asked again (an edit reset it), so notification keys stay unique.
    round: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[datetime | None]
    # The sweep claims a level with a compare-and-set on escalation_level.
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None]
    # Ids of the people this round's escalation levels reached, so each level reaches someone new.
    reached: Mapped[list[Any] | None]

    statement: Mapped[Statement] = relationship(back_populates="approvals")
    decided_by: Mapped[Person | None] = relationship()

    __table_args__ = (
        UniqueConstraint("statement_id", "role", name="uq_statement_approvals_statement_role"),
        Index("ix_statement_approvals_next_escalation_at", "next_escalation_at"),
    )


class SpokespersonAuthorisation(Base):
    """Who may publish in the company's name, on which platform ("*": every platform), once trained."""

    __tablename__ = "spokesperson_authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(50))
    trained_at: Mapped[datetime | None]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    granted_by: Mapped[Person | None] = relationship(foreign_keys=[granted_by_id])

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.trained_at is not None


class HoldingStatement(Base):
    """Approved wording reusable across incidents; placeholders are filled from each incident."""

    __tablename__ = "holding_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(50), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    approved_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    retired_at: Mapped[datetime | None]

    approved_by: Mapped[Person | None] = relationship(foreign_keys=[approved_by_id], lazy="joined")
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
