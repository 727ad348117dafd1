"""Reminders shortly before a step falls due, sent exactly once by whichever sweep gets there first.

A step that starts gets `remind_at = due_at - remind_before` (its playbook's `notifications`
setting) unless it is due too soon for a reminder to help. The sweep picks steps whose
`remind_at` has passed (an indexed range scan, like escalation) and clears it with a
compare-and-set; only the process whose UPDATE matched writes the reminder, in the same
transaction. Steps that finished meanwhile are cleared without a message, so the index holds
only reminders still to come.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from crisis import clock
from crisis.enums import OPEN_STATUSES, StepStatus
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.notifications import triggers
from crisis.playbooks.definition import NotifySettings

# A step due sooner than this after it starts gets no reminder: its start message is enough.
MIN_WINDOW = timedelta(minutes=5)
BATCH_SIZE = 200
RUNNING = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)


def reminder_at(settings: NotifySettings, *, activated_at: datetime, due_at: datetime) -> datetime | None:
    """Return when a step started at `activated_at` and due at `due_at` is reminded, or None."""
    if settings.remind_before is None or due_at - activated_at < MIN_WINDOW:
        return None
    at = due_at - settings.remind_before
    return at if at > activated_at else None


def send_reminders(now: datetime | None = None) -> int:
    """Remind the owners of steps whose reminder time has passed; return how many were sent."""
    now = now or clock.now()
    steps = IncidentStep.__table__
    query = (
        select(steps.c.id, steps.c.key, steps.c.title, steps.c.role, steps.c.owner_id, steps.c.due_at,
               steps.c.status, steps.c.incident_id)
        .where(steps.c.remind_at <= now)
        .order_by(steps.c.remind_at)
        .limit(BATCH_SIZE)
    )
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    sent = 0
    for row in connection.execute(query).all():
        won = connection.execute(
            update(steps).where(steps.c.id == row.id, steps.c.remind_at <= now).values(remind_at=None)
        ).rowcount
        if won != 1 or row.status not in RUNNING or row.due_at is None or row.due_at <= now:
            continue
        incident = db.session.get(Incident, row.incident_id)
        if incident is None or incident.status not in OPEN_STATUSES:
            continue
        sent += triggers.step_due_soon(
            incident=incident,
            step=triggers.StepWork(id=row.id, key=row.key, title=row.title, role=row.role, owner_id=row.owner_id,
                                   due_at=row.due_at),
        )
    return sent
