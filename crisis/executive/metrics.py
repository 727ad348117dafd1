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
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, Integer, String, and_, case, cast, func, literal, select, union_all

from crisis import clock
from crisis.enums import SEVERITIES, StepStatus
from crisis.executive.board import (  # noqa: F401 - the dashboard's names, where callers import them
    Board,
    BoardRow,
    SeveritySection,
    check_board_args,
    load_board,
)
from crisis.executive.sql import ack_time, first_response, seconds_between
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.playbooks.models import PlaybookVersion

ALL_INCIDENTS = "All incidents"
MEASURES = ("ack", "response", "resolve")


@dataclass
class GroupFigures:
    """Response figures for one group of incidents (a severity or a playbook)."""

    label: str
    incidents: int = 0
    median_ack: timedelta | None = None
    median_response: timedelta | None = None
    median_resolve: timedelta | None = None
    steps_due: int = 0
    steps_on_time: int = 0

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


def _per_incident(*, start: datetime, end: datetime, drills: bool, now: datetime):
    """A CTE of the period's incidents: severity, playbook, the three spans in seconds, steps due and on time."""
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
    steps = (
        select(
            IncidentStep.incident_id.label("incident_id"),
            func.sum(case((due_passed, 1), else_=0)).label("due"),
            func.sum(case((on_time, 1), else_=0)).label("on_time"),
            func.min(ack_time()).label("first_ack"),
        )
        .where(IncidentStep.incident_id.in_(select(Incident.id).where(in_period)))
        .group_by(IncidentStep.incident_id)
        .subquery()
    )
    return (
        select(
            Incident.severity.label("severity"),
            PlaybookVersion.key.label("playbook"),
            seconds_between(Incident.declared_at, steps.c.first_ack).label("ack"),
            seconds_between(Incident.declared_at, first_response()).label("response"),
            seconds_between(Incident.declared_at, Incident.resolved_at).label("resolve"),
            func.coalesce(steps.c.due, 0).label("due"),
            func.coalesce(steps.c.on_time, 0).label("on_time"),
        )
        .join(PlaybookVersion, PlaybookVersion.id == Incident.playbook_version_id)
        .outerjoin(steps, steps.c.incident_id == Incident.id)
        .where(in_period, Incident.is_drill.is_(drills))
        .cte("per_incident")
    )


def _groupings(per):
    """(number, label) of the three ways the page groups: everything, by severity, by playbook."""
    return ((0, literal(ALL_INCIDENTS, String)), (1, per.c.severity), (2, per.c.playbook))


def _counts(per):
    """Incidents, steps due and steps on time per group: one UNION ALL of three GROUP BYs."""
    return union_all(*(
        select(
            literal(number, Integer).label("grouping"), cast(label, String).label("label"),
            cast(func.count(), Integer).label("incidents"), cast(func.sum(per.c.due), Integer).label("due"),
            cast(func.sum(per.c.on_time), Integer).label("on_time"),
        ).group_by(label)
        for number, label in _groupings(per)
    ))


def _medians(per):
    """The middle span (or the middle two) of each figure per group, numbered by window functions.

    The two are averaged in Python, on spans rounded to the microsecond as Python measures
    them, so a median falling on half a microsecond rounds as it always did.
    """
    parts = []
    for number, label in _groupings(per):
        for measure in MEASURES:
            value = per.c[measure]
            ranked = (
                select(
                    cast(label, String).label("label"),
                    value.label("value"),
                    func.row_number().over(partition_by=label, order_by=value).label("rn"),
                    func.count().over(partition_by=label).label("n"),
                )
                .where(value.is_not(None))
                .subquery()
            )
            middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
            parts.append(
                select(
                    literal(number, Integer).label("grouping"), ranked.c.label, literal(measure, String).label("measure"),
                    cast(ranked.c.value, Float).label("value"),
                ).where(middle)
            )
    return union_all(*parts)


def compute_metrics(*, start: datetime, end: datetime, drills: bool = False, now: datetime | None = None) -> PeriodMetrics:
    """Return response figures for incidents declared in [start, end): real ones, or only drills.

    Counted, summed and the middle rows found in the database (two statements), whatever the
    period's size; at most two rows per group and figure come back.
    """
    now = now or clock.now()
    per = _per_incident(start=start, end=end, drills=drills, now=now)
    groups: list[dict[str, GroupFigures]] = [{}, {sev: GroupFigures(sev) for sev in SEVERITIES}, {}]
    for number, label, incidents, due, on_time in db.session.execute(select(_counts(per).subquery())):
        group = groups[number].setdefault(label, GroupFigures(label))
        group.incidents, group.steps_due, group.steps_on_time = int(incidents), int(due or 0), int(on_time or 0)
    middles: dict[tuple[int, str, str], list[float]] = {}
    for number, label, measure, value in db.session.execute(select(_medians(per).subquery())):
        middles.setdefault((number, label, measure), []).append(round(float(value), 6))
    for (number, label, measure), values in middles.items():
        group = groups[number].setdefault(label, GroupFigures(label))
        setattr(group, f"median_{measure}", timedelta(seconds=statistics.median(values)))
    in_period = and_(Incident.declared_at >= start, Incident.declared_at < end)
    others = db.session.scalar(select(func.count()).select_from(Incident).where(in_period, Incident.is_drill.is_(not drills)))
    return PeriodMetrics(
        start=start,
        end=end,
        overall=groups[0].get(ALL_INCIDENTS, GroupFigures(ALL_INCIDENTS)),
        by_severity=list(groups[1].values()),
        by_playbook=sorted(groups[2].values(), key=lambda g: g.label),
        drills_excluded=int(others or 0),
        drills=drills,
    )
