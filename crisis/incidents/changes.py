"""The primitives every incident change is made of: step status sets, the incident lock, the
step compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from crisis.enums import (
    FINISHED_STEP_STATUSES,
    IncidentStatus,
    StepStatus,
)
from crisis.errors import Conflict
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep

STATUSES = tuple(s.value for s in IncidentStatus)
UNFINISHED = (StepStatus.PENDING.value, StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
RUNNING = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
FINISHED = tuple(s.value for s in FINISHED_STEP_STATUSES)

# Where each status may go next. Forward moves may skip stages; a resolved incident may be
# reopened; closed is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "declared": ("triage", "responding", "monitoring", "resolved"),
    "triage": ("responding", "monitoring", "resolved"),
    "responding": ("monitoring", "resolved"),
    "monitoring": ("responding", "resolved"),
    "resolved": ("closed", "responding", "monitoring"),
    "closed": (),
}



def lock_incident(incident: Incident) -> None:
    """Serialise actions on one incident and reload its steps as committed.

    FOR NO KEY UPDATE (not FOR UPDATE) so timeline inserts by the sweep, whose foreign key
    takes a KEY SHARE lock on the incident, never wait on us. SQLite transactions are already
    serialised (BEGIN IMMEDIATE).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # key_share=True renders FOR NO KEY UPDATE; then reload what may have changed while we waited.
        db.session.execute(
            select(Incident)
            .where(Incident.id == incident.id)
            .with_for_update(key_share=True, of=Incident)
            .execution_options(populate_existing=True)
        ).all()
        db.session.execute(
            select(IncidentStep)
            .where(IncidentStep.incident_id == incident.id)
            .execution_options(populate_existing=True)
        ).unique().all()
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"{incident.ref} is closed: its steps can no longer change.", field="status")


def claim_step(
    step: IncidentStep,
    *,
    from_statuses: Sequence[str],
    values: dict[str, Any],
    refusal: str,
    extra: Sequence[Any] = (),
) -> None:
    """Change a step only if it is still in one of `from_statuses` (compare-and-set), else 409."""
    result = db.session.execute(
        update(IncidentStep)
        .where(IncidentStep.id == step.id, IncidentStep.status.in_(from_statuses), *extra)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(step)
        raise Conflict(refusal, field="step")
    db.session.expire(step)
    db.session.refresh(step)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
