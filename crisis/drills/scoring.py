"""A drill's score, from the plan's own deadlines and what the timeline and statements record.

The rule (also in the README): every step that became due (it has a `due_at`; skipped and
not-applicable steps are left out) counts once. It is on time when it was completed at or
before its due time; a step still open when the score is taken is late. `on_time_share` is the
on-time steps divided by the counted steps (0 when none counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crisis import clock
from crisis.enums import StepStatus
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.people.models import Person
from crisis.statements.models import Statement, StatementApproval
from crisis.timeline.models import TimelineEvent


@dataclass
class StepScore:
    key: str
    title: str
    role: str
    owner: str | None
    due_at: datetime
    completed_at: datetime | None
    on_time: bool
    late_seconds: int | None  # how late it was done (None when on time or never done)


@dataclass
class Score:
    ref: str
    on_time_share: float
    steps: list[StepScore]
    participants: list[Person]
    roles_played: dict[int, set[str]] = field(default_factory=dict)
    first_acknowledgement_seconds: int | None = None
    holding_approved_seconds: int | None = None
    holding_published_seconds: int | None = None
    approvers: list[dict[str, Any]] = field(default_factory=list)


def score_incident(*, incident: Incident, now: datetime | None = None) -> Score:
    """Score an incident (a drill, usually) against its playbook's deadlines."""
    now = now or clock.now()
    counted = [
        s for s in sorted(incident.steps, key=lambda s: s.position)
        if s.due_at is not None and s.status != StepStatus.SKIPPED.value
    ]
    steps = []
    for s in counted:
        on_time = s.completed_at is not None and s.completed_at <= s.due_at
        late = None if on_time or s.completed_at is None else int((s.completed_at - s.due_at).total_seconds())
        steps.append(StepScore(s.key, s.title, s.role, s.owner.email if s.owner else None, s.due_at,
                               s.completed_at, on_time, late))
    share = sum(1 for s in steps if s.on_time) / len(steps) if steps else 0.0
    acknowledged = [s.acknowledged_at for s in incident.steps if s.acknowledged_at is not None]
    statements = list(db.session.scalars(
        select(Statement).where(Statement.incident_id == incident.id).order_by(Statement.id)
    ))
    approved = [s.approved_at for s in statements if s.approved_at is not None]
    published = [s.published_at for s in statements if s.published_at is not None]
    approvals = list(db.session.scalars(
        select(StatementApproval).join(Statement).where(
            Statement.incident_id == incident.id, StatementApproval.decided_at.is_not(None)
        ).order_by(StatementApproval.decided_at)
    ))
    participants, roles = _participants(incident, statements, approvals)
    return Score(
        ref=incident.ref, on_time_share=share, steps=steps, participants=participants, roles_played=roles,
        first_acknowledgement_seconds=_since(incident, min(acknowledged, default=None)),
        holding_approved_seconds=_since(incident, min(approved, default=None)),
        holding_published_seconds=_since(incident, min(published, default=None)),
        approvers=[
            {"role": a.role, "person": a.decided_by.email if a.decided_by else None,
             "name": a.decided_by.name if a.decided_by else None, "decision": a.status,
             "seconds_to_sign": int((a.decided_at - a.statement.submitted_at).total_seconds())
             if a.statement.submitted_at else None}
            for a in approvals
        ],
    )


def _since(incident: Incident, at: datetime | None) -> int | None:
    return None if at is None else int((at - incident.declared_at).total_seconds())


def _participants(incident: Incident, statements: list[Statement], approvals: list[StatementApproval]
                  ) -> tuple[list[Person], dict[int, set[str]]]:
    """Who took part (acted on the drill) and the response roles each played."""
    people: dict[int, Person] = {}
    roles: dict[int, set[str]] = {}

    def played(person: Person | None, role: str | None) -> None:
        if person is None:
            return
        people.setdefault(person.id, person)
        if role:
            roles.setdefault(person.id, set()).add(role)

    for step in incident.steps:
        if step.completed_by_id is not None:
            played(db.session.get(Person, step.completed_by_id), step.role)
    for approval in approvals:
        played(approval.decided_by, approval.role)
    for statement in statements:
        played(statement.published_by, "spokesperson" if statement.published_by else None)
    actors = db.session.scalars(
        select(Person).join(TimelineEvent, TimelineEvent.actor_id == Person.id)
        .where(TimelineEvent.incident_id == incident.id).distinct()
    )
    for person in actors:
        played(person, None)
    return sorted(people.values(), key=lambda p: p.name), roles


def score_dict(score: Score) -> dict[str, Any]:
    """The API shape of a score."""
    return {
        "ref": score.ref,
        "on_time_share": score.on_time_share,
        "steps": [
            {"key": s.key, "title": s.title, "role": s.role, "owner": s.owner, "due_at": s.due_at.isoformat(),
             "completed_at": s.completed_at.isoformat() if s.completed_at else None, "on_time": s.on_time,
             "late_seconds": s.late_seconds}
            for s in score.steps
        ],
        "participants": [
            {"email": p.email, "name": p.name, "roles": sorted(score.roles_played.get(p.id, ()))}
            for p in score.participants
        ],
        "first_acknowledgement_seconds": score.first_acknowledgement_seconds,
        "holding_statement_approved_seconds": score.holding_approved_seconds,
        "holding_statement_published_seconds": score.holding_published_seconds,
        "approvers": score.approvers,
    }
