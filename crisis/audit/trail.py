"""The one way anything is written to the audit trail, and the one way it is read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crisis import clock
from crisis.audit.models import AuditEvent
from crisis.extensions import db
from crisis.people.models import Person


def audit(*, actor: Person | None, action: str, target: str = "", data: dict[str, Any] | None = None, actor_label: str = "") -> AuditEvent:
    """Append one action to the audit trail, in the caller's transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor else None, actor_label=actor_label, at=clock.now(), action=action,
        target=target[:300], data=data or {},
    )
    db.session.add(event)
    return event


def list_audit_events(*, limit: int = 200, action: str | None = None) -> list[AuditEvent]:
    """Return the newest audit events first."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return list(db.session.scalars(query))
