"""Read the audit trail back in the order it was written."""

from __future__ import annotations

from sqlalchemy import select

from crisis.audit import AuditEvent
from crisis.extensions import db


def audit_actions(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.actor_name, e.action, e.target) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
