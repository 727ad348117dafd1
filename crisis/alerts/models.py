"""Inbound alerts (from monitors, listening tools and employees) and the intake rate limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.incidents.models import Incident
from crisis.people.models import Person


class Alert(Base):
    """One alert as its source identifies it; repeats of the same key update this row."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Where it came in: "alertmanager", "events" (PagerDuty Events v2 shape) or "report".
    intake: Mapped[str] = mapped_column(String(16))
    dedup_key: Mapped[str] = mapped_column(String(255))
    # "<intake>:<dedup_key>" while the alert still absorbs repeats, NULL once it no longer
    # does (its incident closed, or it was dismissed and then resolved). Unique, so
    # concurrent deliveries of the same alert cannot both insert a row and open two incidents.
    live_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    # A hash of Alertmanager's groupKey: alerts of one group join the same incident.
    group_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    # What became of it: "pending" (a person confirms or dismisses), "incident", "dismissed".
    disposition: Mapped[str] = mapped_column(String(16), default="pending")
    # What the source says now: "firing", "acknowledged" or "resolved".
    state: Mapped[str] = mapped_column(String(16), default="firing")
    title: Mapped[str] = mapped_column(String(1024))
    source_name: Mapped[str] = mapped_column(String(255), default="")
    raw_severity: Mapped[str] = mapped_column(String(32), default="")
    severity: Mapped[str] = mapped_column(String(8))
    # The routing decision: rule name, playbook, mode ("open" or "pending") and triage.
    rule: Mapped[str] = mapped_column(String(64), default="")
    playbook_key: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16), default="pending")
    triage_owner_email: Mapped[str | None] = mapped_column(String(254))
    triage_role: Mapped[str] = mapped_column(String(64), default="")
    # Why an alert the rule wanted opened is pending instead (bad rules, unknown playbook...).
    routing_note: Mapped[str] = mapped_column(Text, default="")
    # The attributes rules match on (labels, or source/severity/component...).
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Everything else worth showing: annotations, custom_details, the reporter's concern.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{"platform": ..., "url": ...}], passed on to the incident's source links.
    links: Mapped[list[Any]] = mapped_column(default=list)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    occurrences: Mapped[int] = mapped_column(default=1)
    first_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None]
    dismiss_reason: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident | None] = relationship(lazy="joined")
    received_by: Mapped[Person | None] = relationship(foreign_keys=[received_by_id])
    reported_by: Mapped[Person | None] = relationship(foreign_keys=[reported_by_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        Index("ix_alerts_disposition_first_seen_at", "disposition", "first_seen_at"),
        Index("ix_alerts_first_seen_at", "first_seen_at"),
    )

    @property
    def is_pending(self) -> bool:
        return self.disposition == "pending"


class AlertRateWindow(Base):
    """How many intake calls one token made in one minute; shared by every worker process."""

    __tablename__ = "alert_rate_windows"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
