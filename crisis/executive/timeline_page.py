"""One page of an incident's timeline: the newest events first loaded, older ones page by page.

A long crisis writes tens of thousands of events; the page reads only what it shows:
- the events of one page, by keyset on (at, id) from a cursor event, so page 50 costs what
  page 1 costs and an event landing meanwhile shifts nothing;
- for the chart, the events it draws counted per kind and bucket of its time axis (GROUP BY in
  the database: a few hundred rows however many events), the severity and status changes one
  by one, and the time of the last event, which sets the axis's end;
- for the figures, the first statement and the escalations, counted in the database;
- the number of events of the chosen kind, counted in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, and_, case, cast, func, or_, select

from crisis import clock
from crisis.errors import InvalidInput
from crisis.executive.service import (
    EventRow,
    IncidentFigures,
    event_query,
    event_rows,
    figures_of,
    published_statements,
)
from crisis.executive.sql import FIRST_RESPONSE_KIND, epoch_seconds
from crisis.executive.svg import (
    BUCKETS,
    CHANGE_KINDS,
    INCIDENT_KINDS,
    ChartBucket,
    chart_range,
    is_late,
)
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.incidents.queries import find_incident
from crisis.statements.models import Statement
from crisis.timeline.models import TimelineEvent

PAGE_SIZE = 200
# The chart draws the newest this many severity and status changes (an incident has a handful).
CHANGES_LIMIT = 500
MAX_EVENT_ID = 2**63 - 1


@dataclass
class TimelinePage:
    incident: Incident
    steps: list[IncidentStep]
    statements: list[Statement]
    figures: IncidentFigures
    now: datetime
    # What the chart draws: its time axis, the events counted per bucket, the changes one by one.
    chart_start: datetime
    chart_end: datetime
    chart_buckets: list[ChartBucket]
    chart_changes: list[EventRow]
    # This page's events, oldest first, and how many events of the kind there are in all.
    events: list[EventRow]
    total: int
    # Cursors (event ids) for the links: older events, newer events; None where there are none.
    older: int | None
    newer: int | None

    @property
    def newest(self) -> bool:
        """Whether this page ends with the newest event (the live page)."""
        return self.newer is None

    @property
    def late_steps(self) -> list[IncidentStep]:
        return [s for s in self.steps if is_late(s, self.now)]


def check_cursor(name: str, value: str | None) -> int | None:
    """Return an event id from the query string, or raise InvalidInput naming the field."""
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_EVENT_ID:
        raise InvalidInput("Use the Earlier and Later links to move through the events", field=name)
    return int(text)


def _of_kind(kind: str):
    return TimelineEvent.kind.startswith(kind, autoescape=True) if kind else True


def _chart_kinds():
    """The kinds timeline_chart draws (its INCIDENT_KINDS lane, statements, escalations)."""
    drawn = [TimelineEvent.kind.startswith(prefix, autoescape=True) for prefix in (*INCIDENT_KINDS, "statement.")]
    return and_(or_(TimelineEvent.kind == "step.escalated", *drawn), TimelineEvent.kind != "incident.note")


def _chart_buckets(incident: Incident, start: datetime, end: datetime) -> list[ChartBucket]:
    """Count the events the chart draws per kind (and step, for escalations) in each bucket of its axis."""
    span = max(int((end - start).total_seconds()) + 1, 1)
    # Whole seconds from the start, in integers: integer division then floors alike on SQLite and
    # PostgreSQL (a CAST of a fraction truncates on one and rounds on the other).
    seconds = cast(epoch_seconds(TimelineEvent.at), BigInteger) - int(start.timestamp())
    bucket = (seconds * BUCKETS // span).label("bucket")
    escalated = TimelineEvent.kind == "step.escalated"
    step = case((escalated, TimelineEvent.data["step"].as_string()), else_=None).label("step")
    level = case((escalated, TimelineEvent.data["level"].as_integer()), else_=None)
    query = (
        select(
            TimelineEvent.kind, step, bucket, func.count(), func.min(TimelineEvent.at), func.max(TimelineEvent.at),
            # A bucket of one event shows its summary; min() of one value is that value.
            func.min(TimelineEvent.summary), func.max(level),
        )
        .where(TimelineEvent.incident_id == incident.id, _chart_kinds(), TimelineEvent.kind.not_in(CHANGE_KINDS))
        .group_by(TimelineEvent.kind, step, bucket)
    )
    return [
        ChartBucket(
            kind=kind, step=step or "", index=max(0, min(int(index), BUCKETS - 1)), count=count, first=first,
            last=last, summary=summary, level=int(level or 0),
        )
        for kind, step, index, count, first, last, summary, level in db.session.execute(query)
    ]


def _chart_changes(incident: Incident) -> list[EventRow]:
    """The severity and status changes, oldest first: the newest CHANGES_LIMIT of them."""
    events = TimelineEvent.__table__.c
    newest_first = (
        event_query(incident.id).where(events.kind.in_(CHANGE_KINDS))
        .order_by(None).order_by(events.at.desc(), events.id.desc()).limit(CHANGES_LIMIT)
    )
    return event_rows(newest_first)[::-1]


def _figures(incident: Incident, steps: list[IncidentStep], now: datetime) -> IncidentFigures:
    """figures_of's numbers, with the two read from events (first statement, escalations) counted in the database."""
    first_published, escalations = db.session.execute(
        select(
            func.min(case((TimelineEvent.kind == FIRST_RESPONSE_KIND, TimelineEvent.at), else_=None)),
            func.count().filter(TimelineEvent.kind == "step.escalated"),
        ).where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind.in_((FIRST_RESPONSE_KIND, "step.escalated")))
    ).one()
    figures = figures_of(incident, steps, (), now)
    if first_published is not None:
        figures.time_to_response = max(first_published - incident.declared_at, timedelta(0))
    figures.escalations = int(escalations or 0)
    return figures


def _cursor_at(incident: Incident, field: str, event_id: int) -> datetime:
    at = db.session.scalar(
        select(TimelineEvent.at).where(TimelineEvent.id == event_id, TimelineEvent.incident_id == incident.id)
    )
    if at is None:
        raise InvalidInput("That event is not on this incident's timeline; start again from the newest events", field=field)
    return at


def _page_events(incident: Incident, kind: str, before: int | None, after: int | None, size: int):
    """Return (events oldest first, older cursor, newer cursor) for one page."""
    events = TimelineEvent.__table__.c
    query = event_query(incident.id).where(_of_kind(kind))
    if after is not None:
        at = _cursor_at(incident, "after", after)
        query = query.where(or_(events.at > at, and_(events.at == at, events.id > after))).limit(size + 1)
        rows = event_rows(query)
        more_newer = len(rows) > size
        rows = rows[:size]
        older = rows[0].id if rows else None
        return rows, older, rows[-1].id if more_newer and rows else None
    newest_first = query.order_by(None).order_by(events.at.desc(), events.id.desc())
    if before is not None:
        at = _cursor_at(incident, "before", before)
        newest_first = newest_first.where(or_(events.at < at, and_(events.at == at, events.id < before)))
    rows = event_rows(newest_first.limit(size + 1))
    more_older = len(rows) > size
    rows = rows[:size][::-1]
    newer = (rows[-1].id if rows else before) if before is not None else None
    return rows, rows[0].id if more_older and rows else None, newer


def load_timeline_page(
    *, ref: str, kind: str = "", before: int | None = None, after: int | None = None, size: int | None = None,
    now: datetime | None = None,
) -> TimelinePage:
    """Return one page of the incident's timeline with its chart and figures (see the module doc)."""
    now = now or clock.now()
    size = size or PAGE_SIZE
    incident = find_incident(ref)
    steps = list(incident.steps)
    last_event_at = db.session.scalar(
        select(func.max(TimelineEvent.at)).where(TimelineEvent.incident_id == incident.id)
    )
    chart_start, chart_end = chart_range(incident, steps, now, last_event_at)
    total = db.session.scalar(
        select(func.count()).select_from(TimelineEvent).where(TimelineEvent.incident_id == incident.id, _of_kind(kind))
    )
    events, older, newer = _page_events(incident, kind, before, after, size)
    return TimelinePage(
        incident=incident,
        steps=steps,
        statements=published_statements(incident),
        figures=_figures(incident, steps, now),
        now=now,
        chart_start=chart_start,
        chart_end=chart_end,
        chart_buckets=_chart_buckets(incident, chart_start, chart_end),
        chart_changes=_chart_changes(incident),
        events=events,
        total=int(total or 0),
        older=older,
        newer=newer,
    )
