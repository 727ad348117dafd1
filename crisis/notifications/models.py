"""The notification outbox and configured webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crisis import clock
from crisis.db.base import Base
from crisis.enums import NotificationStatus
from crisis.people.models import Person


class Notification(Base):
    """An outbox row: written in the same transaction as what caused it, delivered later."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # An email address or a webhook URL; empty for in-app.
    address: Mapped[str] = mapped_column(String(2000), default="")
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Receivers drop repeats by this key; unique so a retried write cannot enqueue twice.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=clock.now)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]

    recipient: Mapped[Person | None] = relationship()

    __table_args__ = (Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),)


class Webhook(Base):
    """An outbound JSON webhook (Slack-compatible or Microsoft Teams format)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str] = mapped_column(String(16), default="slack")
    secret: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Drill traffic reaches only webhooks flagged for it (see crisis.drills.marking).
    drills: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
