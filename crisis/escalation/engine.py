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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, literal_column, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import lazyload

from crisis import clock
from crisis.db.base import UTCDateTime
from crisis.enums import OPEN_STATUSES, NotificationStatus, StepStatus
from crisis.escalation.models import StepEscalation
from crisis.escalation.policy import escalation_time, level_for
from crisis.escalation.targets import Directory, is_exec_sponsor, resolve_level
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.notifications import wakeup
from crisis.notifications.delivery import lease_on_write, leases_for
from crisis.notifications.models import Notification
from crisis.notifications.service import active_webhooks, compose_rows
from crisis.notifications.triggers import by_local_time, local_time
from crisis.playbooks.definition import EscalationLevel, EscalationPolicy
from crisis.playbooks.models import PlaybookVersion
from crisis.playbooks.service import definition_of
from crisis.timeline.service import record_many

log = logging.getLogger(__name__)

# Steps still in play escalate; done and skipped steps never do.
ESCALATING = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
# Steps claimed per transaction: short enough that web requests and other sweeps never
# queue long behind one, large enough that a burst of 1,000 due steps is a handful of commits.
BATCH_SIZE = 100
# A sweep stops after this many batches (1,000 step levels) and leaves the rest to the next
# tick: on SQLite a writer that commits and at once begins again starves everyone waiting on
# the lock (their busy handler sleeps between tries), so a catch-up must not run unbroken.
MAX_BATCHES = 10
# On SQLite, a short pause between batches lets waiting web requests take the lock.
SQLITE_PAUSE_SECONDS = 0.005


_steps = IncidentStep.__table__
_incidents = Incident.__table__


class _Due:
    """A due step with the incident fields the sweep needs."""

    __slots__ = ("id", "escalation_level", "key", "title", "role", "status", "owner_id", "due_at",
                 "acknowledged_at", "incident_id", "incident_status", "playbook_version_id", "triage_owner_id")

    def __init__(self, step: Any, incident: Any) -> None:
        for name in ("id", "escalation_level", "key", "title", "role", "status", "owner_id", "due_at",
                     "acknowledged_at", "incident_id"):
            setattr(self, name, getattr(step, name))
        self.incident_status = incident.status
        self.playbook_version_id = incident.playbook_version_id
        self.triage_owner_id = incident.triage_owner_id


@dataclass
class SweepResult:
    escalated: int = 0
    # Due steps whose incident was already closed: their escalation was switched off.
    stopped: int = 0
    batches: int = 0
    errors: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def run_sweep(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES,
    extra: Sequence[Callable[[datetime], int]] = (),
) -> SweepResult:
    """Escalate the steps whose next level is due (up to a bound), then run the `extra` sweeps.

    The scheduler names the extra sweeps (overdue approvals, reminders) where it is built:
    crisis.escalation.scheduler.SWEEPS.
    """
    started = time.perf_counter()
    result = SweepResult()
    policies: dict[int, EscalationPolicy] = {}
    directory = Directory()
    pause = SQLITE_PAUSE_SECONDS if db.session.get_bind().dialect.name == "sqlite" else 0
    for batch in range(max_batches):
        if batch and pause:
            time.sleep(pause)
        at = now or clock.now()
        try:
            picked, escalated, stopped = _sweep_batch(at, batch_size, policies, directory)
            db.session.commit()
        except (OperationalError, LostClaim) as error:
            # A deadlock or lock timeout against another writer, or a claim it took first:
            # nothing of the batch was kept, so the next tick simply tries again.
            db.session.rollback()
            result.errors += 1
            log.warning("escalation batch rolled back: %s", getattr(error, "orig", None) or error)
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
    for sweep in extra:
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


def next_due() -> datetime | None:
    """Return when the next escalation level of any step falls due (one index probe)."""
    return db.session.scalar(
        select(_steps.c.next_escalation_at)
        .where(_steps.c.next_escalation_at.is_not(None))
        .order_by(_steps.c.next_escalation_at)
        .limit(1)
    )


def _sweep_batch(
    now: datetime, batch_size: int, policies: dict[int, EscalationPolicy], directory: Directory
) -> tuple[int, int, int]:
    """Claim and escalate one batch in the current transaction; return (picked, escalated, stopped)."""
    # Steps alone, in index order: "what is due now" stays one short range scan of the
    # next_escalation_at index whatever the table's size (a join here can tempt the planner
    # into scanning every step).
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
            _steps.c.incident_id,
        )
        .where(_steps.c.next_escalation_at <= now, _steps.c.status.in_(ESCALATING))
        .order_by(_steps.c.next_escalation_at)
        .limit(batch_size)
    )
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Concurrent sweeps take disjoint batches instead of queueing on each other's rows.
        query = query.with_for_update(skip_locked=True)
    steps = connection.execute(query).all()
    if not steps:
        return 0, 0, 0
    incidents = {
        row.id: row
        for row in connection.execute(
            select(_incidents.c.id, _incidents.c.status, _incidents.c.playbook_version_id,
                   _incidents.c.triage_owner_id).where(_incidents.c.id.in_({step.incident_id for step in steps}))
        )
    }
    rows = [_Due(step, incidents[step.incident_id]) for step in steps]
    # Claim in id order so two transactions never wait on each other's rows in a cycle.
    rows.sort(key=lambda row: row.id)
    # (row, policy, level claimed, next escalation time); level None: switch escalation off.
    claims: list[tuple[Any, EscalationPolicy, int | None, datetime | None]] = []
    for row in rows:
        policy = policies.get(row.playbook_version_id)
        if policy is None:
            policy = policies[row.playbook_version_id] = policy_for(row.playbook_version_id)
        level = row.escalation_level + 1
        if row.incident_status not in OPEN_STATUSES or level_for(policy, level) is None or row.due_at is None:
            claims.append((row, policy, None, None))
        else:
            claims.append((row, policy, level, next_escalation_after(policy, row.due_at, level, now)))
    winners = _claim(connection, claims, now)
    won = [(row, policy, level) for row, policy, level, _ in claims if level is not None and row.id in winners]
    stopped = sum(1 for row, _, level, _ in claims if level is None and row.id in winners)
    if won:
        _escalate_all(won, now, directory)
    return len(rows), len(won), stopped


def _claim(connection: Any, claims: list[tuple[Any, Any, int | None, datetime | None]], now: datetime) -> set[int]:
    """Compare-and-set each step from the level we saw to the next; return the ids we won.

    One prepared UPDATE for the batch, run as an executemany. Each step is claimed only if it
    still has the level we read, is still running and still due. No other writer can have moved
    a step since we read it: on PostgreSQL the batch's rows are locked (FOR UPDATE), on SQLite
    the sweep's transaction began IMMEDIATE. Should one have all the same (a driver-begun
    transaction), the batch is rolled back and the next tick claims afresh.
    """
    outcome = connection.execute(_CLAIM_ONE, [
        {"claim_id": row.id, "seen": row.escalation_level, "now": now,
         "level": row.escalation_level if level is None else level, "next_at": next_at}
        for row, _, level, next_at in claims
    ])
    if outcome.rowcount != len(claims):
        raise LostClaim(f"{len(claims) - outcome.rowcount} of {len(claims)} claims were taken meanwhile")
    return {row.id for row, _, _, _ in claims}


class LostClaim(Exception):
    """Another writer moved a step between the batch's read and its claim (the batch is retried)."""


_CLAIM_ONE = (
    _steps.update()
    .where(_steps.c.id == bindparam("claim_id"), _steps.c.escalation_level == bindparam("seen"),
           # Constants, not an IN list: an expanding IN cannot run as an executemany.
           or_(*(_steps.c.status == literal_column(f"'{status}'") for status in ESCALATING)),
           _steps.c.next_escalation_at <= bindparam("now", type_=UTCDateTime()))
    .values(escalation_level=bindparam("level"), next_escalation_at=bindparam("next_at", type_=UTCDateTime()))
)


def next_escalation_after(policy: EscalationPolicy, due_at: datetime, fired: int, now: datetime) -> datetime | None:
    """Return when the level after `fired` is due; repeats missed while nothing ran collapse into one."""
    following = escalation_time(policy, due_at, fired + 1)
    if following is None or fired <= len(policy.levels) or following > now or not policy.repeat_every:
        return following
    missed = math.floor((now - following) / policy.repeat_every) + 1
    return following + missed * policy.repeat_every


# Used when a pinned playbook version cannot be read: one alert to everyone who should know
# beats a sweep that fails on the same step forever and so escalates nothing at all.
FALLBACK_POLICY = EscalationPolicy(
    levels=(EscalationLevel(after=timedelta(0), notify=("owner", "triage_owner", "role_lead"),
                            channels=("in_app", "email", "webhook")),),
)


def policy_for(playbook_version_id: int) -> EscalationPolicy:
    """Return the escalation policy of the playbook version an incident is pinned to."""
    version = db.session.get(PlaybookVersion, playbook_version_id)
    try:
        return definition_of(version).escalation
    except (KeyError, TypeError, ValueError, AttributeError):
        log.exception("playbook version %s has an unreadable definition; using the fallback policy",
                      playbook_version_id)
        return FALLBACK_POLICY


def triage_role_for(playbook_version_id: int) -> str:
    """Return the triage role of the playbook version an incident is pinned to."""
    try:
        return definition_of(db.session.get(PlaybookVersion, playbook_version_id)).triage_role
    except (KeyError, TypeError, ValueError, AttributeError):
        return "triage-lead"


def _reached_before(step_ids: set[int]) -> dict[int, set[int]]:
    """Return, per step, the ids of everyone its earlier escalation levels notified."""
    reached: dict[int, set[int]] = defaultdict(set)
    if not step_ids:
        return reached
    table = StepEscalation.__table__
    for step_id, notified in db.session.execute(
        select(table.c.step_id, table.c.notified).where(table.c.step_id.in_(step_ids))
    ):
        reached[step_id].update(notified or ())
    return reached


def _escalate_all(won: list[tuple[Any, EscalationPolicy, int]], now: datetime, directory: Directory) -> None:
    """Write what the won claims produce: escalation rows, timeline events, outbox rows.

    Everything is read first and only then added, so the batch goes to the database as a few
    bulk inserts at commit rather than a flush per step.
    """
    incident_ids = {row.incident_id for row, _, _ in won}
    incidents = {
        item.id: item
        for item in db.session.scalars(
            select(Incident).where(Incident.id.in_(incident_ids)).options(lazyload("*"))
        )
    }
    directory.load({row.owner_id for row, _, _ in won} | {row.triage_owner_id for row, _, _ in won})
    webhooks = active_webhooks()
    env = current_app.jinja_env
    subject_template = env.get_template("email/escalation_subject.txt")
    body_template = env.get_template("email/escalation.txt")
    base_url = current_app.config["BASE_URL"].rstrip("/")
    outbox: list[dict[str, Any]] = []
    fired: list[dict[str, Any]] = []
    # A first level has no earlier levels: (step, level) is unique, so only later levels look.
    reached = _reached_before({row.id for row, _, level in won if level > 1})
    events: list[dict[str, Any]] = []
    triage_roles: dict[int, str] = {}
    for row, policy, level in won:
        spec = level_for(policy, level)
        incident = incidents[row.incident_id]
        if row.playbook_version_id not in triage_roles:
            triage_roles[row.playbook_version_id] = triage_role_for(row.playbook_version_id)
        reach = resolve_level(
            spec.notify, owner_id=row.owner_id, triage_owner_id=row.triage_owner_id, role=row.role,
            triage_role=triage_roles[row.playbook_version_id], reached=reached[row.id], directory=directory,
        )
        recipients = reach.people
        notified = [person.email for person in recipients]
        fired.append({"step_id": row.id, "level": level, "fired_at": now, "due_at": row.due_at,
                      "notified": [person.id for person in recipients]})
        who = ", ".join(person.name for person in recipients) if recipients else "nobody (no owner or role holder found)"
        summary = f"“{row.title}” is overdue: escalation level {level}, told {who}"
        if reach.nobody_new:
            summary += "; nobody new was left to reach"
        events.append({
            "incident_id": row.incident_id,
            "kind": "step.escalated",
            "summary": summary,
            "actor_label": "scheduler",
            "data": {"step": row.key, "level": level, "notified": notified,
                     **({"nobody_new": True} if reach.nobody_new else {})},
            "at": now,
        })
        owner = directory.person(row.owner_id)
        fields = {
            "step_title": row.title,
            "incident_ref": incident.ref,
            "incident_title": incident.title,
            "severity": incident.severity,
            "drill": incident.is_drill,
            "level": level,
            "repeat": level > len(policy.levels),
            "owner": owner.name if owner else None,
            "status": row.status,
            "acknowledged": row.acknowledged_at is not None,
        }
        common = {
            "incident": incident,
            "dedup_key": f"escalation:{row.id}:{level}",
            "link": f"{base_url}/incidents/{incident.ref}",
        }
        # Each person reads the due time in their own zone (one message per zone); the team's
        # webhooks read it in the desk's.
        groups = list(by_local_time(row.due_at, recipients).items())
        personal = tuple(channel for channel in spec.channels if channel != "webhook")
        if len(personal) < len(spec.channels):
            groups.append((local_time(row.due_at, None), []))
        for due, people in groups:
            text = {"due_at": due if row.due_at is not None else None}
            message = {
                "subject": subject_template.render(**fields, **text).strip(),
                "body": body_template.render(**fields, **text).strip(),
                **common,
            }
            if not people:
                outbox.extend(compose_rows(recipients=[], channels=("webhook",), webhooks=webhooks, **message))
                continue
            outbox.extend(compose_rows(recipients=people, channels=personal, webhooks=(), **message))
            # The executive level reaches executives in the app too, whatever channels it names.
            executives = [p for p in people if is_exec_sponsor(p, directory)]
            if executives and "in_app" not in spec.channels:
                outbox.extend(compose_rows(recipients=executives, channels=("in_app",), webhooks=(), **message))
    # Core executemany inserts: one multi-row INSERT each. The unique (step, level) key makes a
    # second firing fail the whole batch, whatever went wrong elsewhere.
    db.session.execute(StepEscalation.__table__.insert(), fired)
    record_many(events)
    if not outbox:
        return
    if not wakeup.has_courier():
        db.session.execute(Notification.__table__.insert(), outbox)
        if any(row["status"] == NotificationStatus.PENDING.value for row in outbox):
            wakeup.mark(db.session())
        return
    # A courier runs in this process: the rows are written leased to it and sent the moment
    # this batch commits, with no lease transaction of their own (crisis.notifications.delivery.Courier).
    lease_on_write(outbox, now)
    db.session.execute(Notification.__table__.insert(), outbox)
    wakeup.hand_over(db.session(), leases_for(outbox, webhooks))
