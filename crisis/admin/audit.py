"""The one way anything is written to the admin audit trail (importable from any domain)."""

from __future__ import annotations

from typing import Any

from crisis import clock
from crisis.admin.models import AuditEvent
from crisis.extensions import db
from crisis.people.models import Person


def audit(*, actor: Person | None, action: str, target: str = "", data: dict[str, Any] | None = None, actor_label: str = "") -> AuditEvent:
    """Append one admin action to the audit trail, in the caller's transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor else None, actor_label=actor_label, at=clock.now(), action=action,
        target=target[:300], data=data or {},
    )
    db.session.add(event)
    return event
