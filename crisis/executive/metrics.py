"""Response figures, aggregated in SQL: the open-incident board and metrics over a period.

Definitions used everywhere (dashboard, metrics page, reports):
- time to acknowledge: declaration → the first step acknowledged (or completed, if nobody
  acknowledged first);
- time to holding statement: declaration → the first statement published (the first public
  response, read from the timeline's `statement.published` events);
- time to resolve: declaration → `resolved_at`;
- steps on time: of the steps that fell due (done, or still open past their due time), the
  share completed by their due time. Skipped steps count neither way.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select

from crisis import clock
from crisis.enums import OPEN_STATUSES, SEVERITIES, IncidentStatus, StepStatus
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.people.models import Person
from crisis.playbooks.models import PlaybookVersion
from crisis.reviews.models import PostIncidentReview
from crisis.statements.models import Statement
from crisis.timeline.models import TimelineEvent

UNFINISHED = (StepStatus.PENDING.value, StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
STARTED_UNFINISHED = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
FIRST_RESPONSE_KIND = "statement.published"


@dataclass(slots=True)
class BoardRow:
    """One incident on the dashboard, with its figures (plain values: 1,000 rows load fast)."""

    ref: str
    title: str
    severity: str
    status: str
    declared_at: datetime
    resolved_at: datetime | None
    is_drill: bool
    triage_owner_name: str | None
    playbook_key: str
    playbook_title: str
    steps_total: int
    steps_done: int
    steps_overdue: int
    escalation_level: int
    next_due_at: datetime | None
    first_ack_at: datetime | None
    first_response_at: datetime | None
    has_review: bool = False
    # The latest statement published on the incident: (platform, body, published_at).
    said: tuple[str, str, datetime] | None = None
    # The steps running past their due time: (title, owner's name or None), most overdue first.
    late_steps: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def time_to_ack(self) -> timedelta | None:
        return _since(self.declared_at, self.first_ack_at)

    @property
    def time_to_response(self) -> timedelta | None:
        return _since(self.declared_at, self.first_response_at)

    @property
    def time_to_resolve(self) -> timedelta | None:
        return _since(self.declared_at, self.resolved_at)


@dataclass
class Board:
    """The dashboard: open incidents grouped by severity, and the recently resolved."""

    open_rows: list[BoardRow]
    resolved_rows: list[BoardRow]
    now: datetime

    def by_severity(self) -> list[tuple[str, list[BoardRow]]]:
        return [(sev, [r for r in self.open_rows if r.severity == sev]) for sev in SEVERITIES]

    @property
    def overdue_total(self) -> int:
        return sum(r.steps_overdue for r in self.open_rows)

    @property
    def escalated_count(self) -> int:
        return sum(1 for r in self.open_rows if r.escalation_level > 0)

    @property
    def awaiting_response_count(self) -> int:
        return sum(1 for r in self.open_rows if r.first_response_at is None)


def _since(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return max(end - start, timedelta(0))


def _ack_time():
    """When a step was first taken up: acknowledged, else completed (skips do not count)."""
    done_at = case((IncidentStep.status == StepStatus.DONE.value, IncidentStep.completed_at), else_=None)
    return func.coalesce(IncidentStep.acknowledged_at, done_at)


def _step_figures(now: datetime, incident_ids):
    """A subquery of per-incident step aggregates, over the steps of `incident_ids` only.

    `incident_ids` is a select of the incidents the board shows: without it the GROUP BY
    aggregated every step ever recorded (closed incidents included) on each render.
    """
    unfinished = IncidentStep.status.in_(UNFINISHED)
    started = IncidentStep.status.in_(STARTED_UNFINISHED)
    return (
        select(
            IncidentStep.incident_id.label("incident_id"),
            func.count().label("total"),
            func.sum(case((IncidentStep.status == StepStatus.DONE.value, 1), else_=0)).label("done"),
            func.sum(case((and_(started, IncidentStep.due_at < now), 1), else_=0)).label("overdue"),
            func.max(case((unfinished, IncidentStep.escalation_level), else_=0)).label("level"),
            func.min(case((started, IncidentStep.due_at), else_=None)).label("next_due"),
            func.min(_ack_time()).label("first_ack"),
        )
        .where(IncidentStep.incident_id.in_(incident_ids))
        .group_by(IncidentStep.incident_id)
        .subquery()
    )


def _first_response():
    """A correlated scalar subquery: when the incident's first statement was published."""
    return (
        select(func.min(TimelineEvent.at))
        .where(TimelineEvent.incident_id == Incident.id, TimelineEvent.kind == FIRST_RESPONSE_KIND)
        .correlate(Incident)
        .scalar_subquery()
    )


def _board_query(now: datetime, incident_ids):
    steps = _step_figures(now, incident_ids)
    return (
        select(
            Incident.ref,
            Incident.title,
            Incident.severity,
            Incident.status,
            Incident.declared_at,
            Incident.resolved_at,
            Incident.is_drill,
            Person.name,
            PlaybookVersion.key,
            PlaybookVersion.title,
            func.coalesce(steps.c.total, 0),
            func.coalesce(steps.c.done, 0),
            func.coalesce(steps.c.overdue, 0),
            func.coalesce(steps.c.level, 0),
            steps.c.next_due,
            steps.c.first_ack,
            _first_response().label("first_response"),
            PostIncidentReview.id.is_not(None),
        )
        .join(PlaybookVersion, PlaybookVersion.id == Incident.playbook_version_id)
        .outerjoin(Person, Person.id == Incident.triage_owner_id)
        .outerjoin(steps, steps.c.incident_id == Incident.id)
        .outerjoin(PostIncidentReview, PostIncidentReview.incident_id == Incident.id)
    )


def _rows(result: Iterable) -> list[BoardRow]:
    rows = []
    for values in result:
        row = BoardRow(*values)
        for name in ("steps_total", "steps_done", "steps_overdue", "escalation_level"):
            setattr(row, name, int(getattr(row, name)))
        row.has_review = bool(row.has_review)
        rows.append(row)
    return rows


def load_board(*, recent_limit: int = 10, now: datetime | None = None) -> Board:
    """Return the open incidents with their figures and the most recently resolved ones."""
    now = now or clock.now()
    severity_order = case({sev: index for index, sev in enumerate(SEVERITIES)}, value=Incident.severity, else_=9)
    open_ids = select(Incident.id).where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
    open_query = (
        _board_query(now, open_ids)
        .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(severity_order, Incident.declared_at, Incident.id)
    )
    recently_resolved = (
        select(Incident.id)
        .where(Incident.status.in_([IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value]))
        .where(Incident.resolved_at.is_not(None))
        .order_by(Incident.resolved_at.desc(), Incident.id.desc())
        .limit(recent_limit)
    )
    resolved_query = (
        _board_query(now, recently_resolved)
        .where(Incident.status.in_([IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value]))
        .where(Incident.resolved_at.is_not(None))
        .order_by(Incident.resolved_at.desc(), Incident.id.desc())
        .limit(recent_limit)
    )
    open_rows = _rows(db.session.execute(open_query))
    _attach_latest_statements(open_rows)
    _attach_late_steps(open_rows, now)
    return Board(
        open_rows=open_rows,
        resolved_rows=_rows(db.session.execute(resolved_query)),
        now=now,
    )


def _attach_latest_statements(rows: Sequence[BoardRow]) -> None:
    """Give each open incident its latest published statement, in one query for all of them."""
    if not rows:
        return
    by_ref = {row.ref: row for row in rows}
    query = (
        select(Incident.ref, Statement.platform, Statement.body, Statement.published_at)
        .join(Incident, Incident.id == Statement.incident_id)
        .where(Incident.status.in_([s.value for s in OPEN_STATUSES]), Statement.published_at.is_not(None))
        .order_by(Statement.published_at, Statement.id)
    )
    for ref, platform, body, published_at in db.session.execute(query):
        if ref in by_ref:
            by_ref[ref].said = (platform, body, published_at)


def _attach_late_steps(rows: Sequence[BoardRow], now: datetime) -> None:
    """Give each open incident its overdue steps and their owners, in one query for all of them."""
    if not any(row.steps_overdue for row in rows):
        return
    by_ref = {row.ref: row for row in rows}
    steps, incidents, people = IncidentStep.__table__.c, Incident.__table__.c, Person.__table__.c
    # Plain strings only, on the tables: thousands of late steps cost a few milliseconds.
    query = (
        select(incidents.ref, steps.title, people.name)
        .select_from(
            IncidentStep.__table__.join(Incident.__table__, incidents.id == steps.incident_id).outerjoin(
                Person.__table__, people.id == steps.owner_id
            )
        )
        .where(
            incidents.status.in_([s.value for s in OPEN_STATUSES]),
            steps.status.in_(STARTED_UNFINISHED),
            steps.due_at < now,
        )
        .order_by(steps.due_at, steps.id)
    )
    for ref, title, owner in db.session.connection().execute(query):
        row = by_ref.get(ref)
        if row is not None:
            row.late_steps.append((title, owner))


# --- metrics over a period ---------------------------------------------------------------


@dataclass
class GroupFigures:
    """Response figures for one group of incidents (a severity or a playbook)."""

    label: str
    incidents: int = 0
    ack: list[timedelta] = field(default_factory=list)
    response: list[timedelta] = field(default_factory=list)
    resolve: list[timedelta] = field(default_factory=list)
    steps_due: int = 0
    steps_on_time: int = 0

    @property
    def median_ack(self) -> timedelta | None:
        return _median(self.ack)

    @property
    def median_response(self) -> timedelta | None:
        return _median(self.response)

    @property
    def median_resolve(self) -> timedelta | None:
        return _median(self.resolve)

    @property
    def on_time_share(self) -> float | None:
        return self.steps_on_time / self.steps_due if self.steps_due else None


@dataclass
class PeriodMetrics:
    start: datetime
    end: datetime
    overall: GroupFigures
    by_severity: list[GroupFigures]
    by_playbook: list[GroupFigures]
    drills_excluded: int  # incidents of the other kind (drills, or real ones when showing drills)
    drills: bool = False


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def compute_metrics(*, start: datetime, end: datetime, drills: bool = False, now: datetime | None = None) -> PeriodMetrics:
    """Return response figures for incidents declared in [start, end): real ones, or only drills."""
    now = now or clock.now()
    due_passed = and_(
        IncidentStep.due_at.is_not(None),
        IncidentStep.status != StepStatus.SKIPPED.value,
        (IncidentStep.status == StepStatus.DONE.value) | (IncidentStep.due_at < now),
    )
    on_time = and_(
        IncidentStep.status == StepStatus.DONE.value,
        IncidentStep.due_at.is_not(None),
        IncidentStep.completed_at <= IncidentStep.due_at,
    )
    in_period = and_(Incident.declared_at >= start, Incident.declared_at < end)
    # Only the period's incidents' steps: aggregating every step ever recorded grew with history.
    incident_ids = select(Incident.id).where(in_period)
    steps = (
        select(
            IncidentStep.incident_id.label("incident_id"),
            func.sum(case((due_passed, 1), else_=0)).label("due"),
            func.sum(case((on_time, 1), else_=0)).label("on_time"),
            func.min(_ack_time()).label("first_ack"),
        )
        .where(IncidentStep.incident_id.in_(incident_ids))
        .group_by(IncidentStep.incident_id)
        .subquery()
    )
    query = (
        select(
            Incident.severity,
            PlaybookVersion.key,
            Incident.declared_at,
            Incident.resolved_at,
            steps.c.first_ack,
            _first_response(),
            func.coalesce(steps.c.due, 0),
            func.coalesce(steps.c.on_time, 0),
        )
        .join(PlaybookVersion, PlaybookVersion.id == Incident.playbook_version_id)
        .outerjoin(steps, steps.c.incident_id == Incident.id)
        .where(in_period, Incident.is_drill.is_(drills))
    )
    overall = GroupFigures("All incidents")
    severities = {sev: GroupFigures(sev) for sev in SEVERITIES}
    playbooks: dict[str, GroupFigures] = {}
    for severity, key, declared_at, resolved_at, first_ack, first_response, due, in_time in db.session.execute(query):
        groups = [overall, severities.setdefault(severity, GroupFigures(severity)), playbooks.setdefault(key, GroupFigures(key))]
        for group in groups:
            group.incidents += 1
            group.steps_due += int(due)
            group.steps_on_time += int(in_time)
            for values, end_at in ((group.ack, first_ack), (group.response, first_response), (group.resolve, resolved_at)):
                span = _since(declared_at, end_at)
                if span is not None:
                    values.append(span)
    others = db.session.scalar(select(func.count()).select_from(Incident).where(in_period, Incident.is_drill.is_(not drills)))
    return PeriodMetrics(
        start=start,
        end=end,
        overall=overall,
        by_severity=list(severities.values()),
        by_playbook=sorted(playbooks.values(), key=lambda g: g.label),
        drills_excluded=int(others or 0),
        drills=drills,
    )
