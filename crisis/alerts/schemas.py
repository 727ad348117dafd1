"""Response models of the alerts API: the one place an alert is shaped for the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from crisis.alerts.models import Alert


class AlertOut(BaseModel):
    id: int
    intake: str
    dedup_key: str
    title: str
    severity: str
    state: str
    disposition: str
    rule: str
    playbook: str | None
    incident: str | None
    occurrences: int
    first_seen_at: str
    last_seen_at: str
    resolved_at: str | None
    routing_note: str

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id,
            intake=alert.intake,
            dedup_key=alert.dedup_key,
            title=alert.title,
            severity=alert.severity,
            state=alert.state,
            disposition=alert.disposition,
            rule=alert.rule,
            playbook=alert.playbook_key,
            incident=alert.incident.ref if alert.incident is not None else None,
            occurrences=alert.occurrences,
            first_seen_at=alert.first_seen_at.isoformat(),
            last_seen_at=alert.last_seen_at.isoformat(),
            resolved_at=alert.resolved_at.isoformat() if alert.resolved_at else None,
            routing_note=alert.routing_note,
        )


class AlertListOut(BaseModel):
    alerts: list[AlertOut]
    next_cursor: str | None = None
