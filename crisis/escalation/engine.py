"""The escalation sweep: claim each due level of each overdue step exactly once, whatever runs it.

The database is the only state. A sweep picks a small batch of steps whose
`next_escalation_at` has passed and claims each one with a compare-and-set UPDATE on
`escalation_level`; only the process whose UPDATE matched writes the StepEscalation row,
the timeline event and the outbox rows, in the claim's transaction. Any number of sweeps
may run at once on the same database; a crash rolls back a half-done batch, and the next
sweep picks it up again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from crisis import clock
from crisis.enums import OPEN_STATUSES, StepStatus
from crisis.escalation.models import StepEscalation
from crisis.escalation.policy import escalation_time, level_for
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.people.service import role_primary
from crisis.playbooks.definition import ROLE_TARGET_PREFIX, EscalationPolicy, Playbook
from crisis.playbooks.models import PlaybookVersion
from crisis.timeline.service import record

log = logging.getLogger(__name__)

# Steps still in play escalate; done and skipped steps never do.
ESCALATING = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
EXEC_SPONSOR_ROLE = "exec-sponsor"
# Steps claimed per transaction: short enough that web requests and other sweeps never
# queue long behind one, large enough that a burst of 1,000 due steps is a handful of commits.
BATCH_SIZE = 100
# A sweep stops after this many batches and leaves the rest to the next tick.
MAX_BATCHES = 200

# Other domains append `fn(now) -> int` here (e.g. overdue approvals); run_sweep calls each.
EXTRA_SWEEPS: list[Callable[[datetime], int]] = []

_steps = IncidentStep.__table__
_incidents = Incident.__table__


@dataclass
class SweepResult:
    escalated: int = 0
    # Due steps whose incident was already closed: their escalation was switched off.
    stopped: int = 0
    batches: int = 0
    errors: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def run_sweep(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepResult:
    """Escalate every step whose next level is due, then run the other domains' sweeps."""
    started = time.perf_counter()
    result = SweepResult()
    policies: dict[int, EscalationPolicy] = {}
    for _ in range(MAX_BATCHES):
        at = now or clock.now()
        try:
            picked, escalated, stopped = _sweep_batch(at, batch_size, policies)
            db.session.commit()
        except OperationalError as error:
            # A deadlock or lock timeout against another writer: nothing of the batch was
            # kept, so the next tick simply tries again.
            db.session.rollback()
            result.errors += 1
            log.warning("escalation batch rolled back: %s", error.orig if error.orig else error)
            break
        except Exception:
            db.session.rollback()
            raise
        result.batches += 1
        result.escalated += escalated
        result.stopped += stopped
        # Loop while batches make progress: a step that was many levels behind (downtime)
        # comes back in the next batch for its next level.
        if picked == 0 or escalated + stopped == 0:
            break
    for sweep in list(EXTRA_SWEEPS):
        name = getattr(sweep, "__qualname__", repr(sweep))
        try:
            result.extra[name] = sweep(now or clock.now())
            db.session.commit()
        except Exception:
            db.session.rollback()
            result.errors += 1
            log.exception("extra sweep %s failed", name)
    result.seconds = time.perf_counter() - started
    return result


def _sweep_batch(now: datetime, batch_size: int, policies: dict[int, EscalationPolicy]) -> tuple[int, int, int]:
    """Claim and escalate one batch in the current transaction; return (picked, escalated, stopped)."""
    query = (
        select(
            _steps.c.id,
            _steps.c.escalation_level,
            _steps.c.key,
            _steps.c.title,
            _steps.c.role,
            _steps.c.status,
            _steps.c.owner_id,
            _steps.c.due_at,
            _steps.c.acknowledged_at,
            _steps.c.next_escalation_at,
            _incidents.c.id.label("incident_id"),
            _incidents.c.status.label("incident_status"),
            _incidents.c.playbook_version_id,
            _incidents.c.triage_owner_id,
        )
        .select_from(_steps.join(_incidents, _incidents.c.id == _steps.c.incident_id))
        .where(_steps.c.next_escalation_at <= now, _steps.c.status.in_(ESCALATING))
        .order_by(_steps.c.next_escalation_at)
        .limit(batch_size)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Concurrent sweeps take disjoint batches instead of queueing on each other's rows.
        query = query.with_for_update(skip_locked=True, of=_steps)
    rows = db.session.execute(query).all()
    # Claim in id order so two transactions never wait on each other's rows in a cycle.
    rows.sort(key=lambda row: row.id)
    escalated = stopped = 0
    roles: dict[str, Person | None] = {}
    for row in rows:
        policy = policies.get(row.playbook_version_id)
        if policy is None:
            policy = policies[row.playbook_version_id] = policy_for(row.playbook_version_id)
        level = row.escalation_level + 1
        if row.incident_status not in OPEN_STATUSES or level_for(policy, level) is None or row.due_at is None:
            stopped += _claim(row, now, level=row.escalation_level, next_at=None)
            continue
        next_at = next_escalation_after(policy, row.due_at, level, now)
        if _claim(row, now, level=level, next_at=next_at):
            _escalate(row, policy, level, now, roles)
            escalated += 1
    return len(rows), escalated, stopped


def _claim(row: Any, now: datetime, *, level: int, next_at: datetime | None) -> int:
    """Compare-and-set the step from the level we saw to `level`; return 1 if we won."""
    outcome = db.session.execute(
        _steps.update()
        .where(
            _steps.c.id == row.id,
            _steps.c.escalation_level == row.escalation_level,
            _steps.c.status.in_(ESCALATING),
            _steps.c.next_escalation_at <= now,
        )
        .values(escalation_level=level, next_escalation_at=next_at)
    )
    return outcome.rowcount


def next_escalation_after(policy: EscalationPolicy, due_at: datetime, fired: int, now: datetime) -> datetime | None:
    """Return when the level after `fired` is due; repeats missed while nothing ran collapse into one."""
    following = escalation_time(policy, due_at, fired + 1)
    if following is None or fired <= len(policy.levels) or following > now or not policy.repeat_every:
        return following
    missed = math.floor((now - following) / policy.repeat_every) + 1
    return following + missed * policy.repeat_every


def policy_for(playbook_version_id: int) -> EscalationPolicy:
    """Return the escalation policy of the playbook version an incident is pinned to."""
    version = db.session.get(PlaybookVersion, playbook_version_id)
    return Playbook.from_dict(version.definition).escalation


def recipients_for(
    targets: tuple[str, ...], *, owner_id: int | None, triage_owner_id: int | None, role: str,
    roles: dict[str, Person | None] | None = None,
) -> list[Person]:
    """Resolve a level's `notify` targets to active people, in order, without repeats."""
    roles = {} if roles is None else roles

    def primary(name: str) -> Person | None:
        if name not in roles:
            roles[name] = role_primary(name)
        return roles[name]

    people: list[Person] = []
    for target in targets:
        if target == "owner":
            # An unowned step is the role's to pick up, so its primary hears about it.
            person = db.session.get(Person, owner_id) if owner_id else primary(role)
        elif target == "triage_owner":
            person = db.session.get(Person, triage_owner_id) if triage_owner_id else None
        elif target == "role_lead":
            person = primary(role)
        elif target == "exec_sponsor":
            person = primary(EXEC_SPONSOR_ROLE)
        elif target.startswith(ROLE_TARGET_PREFIX):
            person = primary(target.removeprefix(ROLE_TARGET_PREFIX))
        else:
            person = None
        if person is not None and person.active and all(p.id != person.id for p in people):
            people.append(person)
    return people


def _escalate(row: Any, policy: EscalationPolicy, level: int, now: datetime, roles: dict[str, Person | None]) -> None:
    """Write what one won claim produces: the escalation row, its timeline event, its outbox rows."""
    spec = level_for(policy, level)
    incident = db.session.get(Incident, row.incident_id)
    people = recipients_for(
        spec.notify, owner_id=row.owner_id, triage_owner_id=row.triage_owner_id, role=row.role, roles=roles
    )
    notified = [person.email for person in people]
    db.session.add(StepEscalation(step_id=row.id, level=level, fired_at=now, due_at=row.due_at))
    who = ", ".join(notified) if notified else "nobody (no owner or role holder found)"
    record(
        incident_id=row.incident_id,
        kind="step.escalated",
        summary=f"Step {row.title!r} is overdue: escalation level {level}, notified {who}",
        actor_label="scheduler",
        data={"step": row.key, "level": level, "notified": notified},
        at=now,
    )
    owner = db.session.get(Person, row.owner_id) if row.owner_id else None
    values = {
        "step_title": row.title,
        "incident_ref": incident.ref,
        "incident_title": incident.title,
        "severity": incident.severity,
        "drill": incident.is_drill,
        "level": level,
        "repeat": level > len(policy.levels),
        "due_at": row.due_at.strftime("%Y-%m-%d %H:%M UTC") if row.due_at else None,
        "owner": owner.name if owner else None,
        "status": row.status,
        "acknowledged": row.acknowledged_at is not None,
    }
    env = current_app.jinja_env
    notify(
        recipients=people,
        subject=env.get_template("email/escalation_subject.txt").render(**values).strip(),
        body=env.get_template("email/escalation.txt").render(**values).strip(),
        incident=incident,
        dedup_key=f"escalation:{row.id}:{level}",
        channels=spec.channels,
        link=f"{current_app.config['BASE_URL'].rstrip('/')}/incidents/{incident.ref}",
    )
