"""One page of an incident's timeline: the newest events first loaded, older ones page by page.

A long crisis writes tens of thousands of events; the page reads only what it shows:
- the events of one page, by keyset on (at, id) from a cursor event, so page 50 costs what
  page 1 costs and an event landing meanwhile shifts nothing;
- for the chart and the figures, only the kinds they draw (escalations, statements, incident
  changes) and the time of the last event, which sets the chart's end;
- the number of events of the chosen kind, counted in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, func, or_, select

from crisis import clock
from crisis.errors import InvalidInput
from crisis.executive.service import (
    EventRow,
    IncidentFigures,
    event_query,
    event_rows,
    figures_of,
    find_incident,
    published_statements,
)
from crisis.executive.sql import FIRST_RESPONSE_KIND, epoch_seconds
from crisis.executive.svg import INCIDENT_KINDS, WIDE, chart_range, is_late
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.statements.models import Statement
from crisis.timeline.models import TimelineEvent

PAGE_SIZE = 200
# Up to this many drawn events the chart reads them all; past it, the first MARK_ROWS and the
# last of each mark (a busy mark's tooltip then names its first and last event and counts the rest).
CHART_EXACT_LIMIT = 1000
MARK_ROWS = 1
MAX_EVENT_ID = 2**63 - 1


@dataclass
class TimelinePage:
    incident: Incident
    steps: list[IncidentStep]
    statements: list[Statement]
    figures: IncidentFigures
    now: datetime
    # What the chart draws and the time of the last event of any kind.
    chart_events: list[EventRow]
    last_event_at: datetime | None
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


def _chart_events(incident: Incident, steps: list[IncidentStep], now: datetime, last_event_at: datetime | None):
    """The events the chart draws: all of them, or past CHART_EXACT_LIMIT a few per mark.

    A mark is a pixel of the wide chart in a lane (incident changes, statements, one step's
    escalations). Per mark the database keeps the first event(s) (the mark's tooltip names
    them) and the last (it sets the mark's look); the last carries as `weight` the events left
    out, so the tooltip still says how many more there were.
    """
    drawn = _chart_kinds()
    query = event_query(incident.id).where(drawn)
    count = db.session.scalar(
        select(func.count()).select_from(TimelineEvent).where(TimelineEvent.incident_id == incident.id, drawn)
    )
    if not count or count <= CHART_EXACT_LIMIT:
        return event_rows(query)
    start, end = chart_range(incident, steps, now, last_event_at)
    per_second = (WIDE.width - WIDE.plot_left - WIDE.right_pad) / max((end - start).total_seconds(), 1.0)
    x = WIDE.plot_left + (epoch_seconds(TimelineEvent.at) - start.timestamp()) * per_second
    lane = case(
        (TimelineEvent.kind == "step.escalated", "step:" + func.coalesce(TimelineEvent.data["step"].as_string(), "")),
        (TimelineEvent.kind.startswith("statement.", autoescape=True), "statement"),
        else_="incident",
    )
    mark = {"partition_by": (lane, cast(x + 0.5, Integer))}
    ranked = query.add_columns(
        func.row_number().over(order_by=(TimelineEvent.at, TimelineEvent.id), **mark).label("rn"),
        func.count().over(**mark).label("n"),
    ).order_by(None).subquery()
    rn, n = ranked.c.rn, ranked.c.n
    weight = case(((rn == n) & (n > MARK_ROWS), n - MARK_ROWS), else_=1).label("weight")
    kept = select(*list(ranked.c)[:8], weight).where((rn <= MARK_ROWS) | (rn == n))
    return event_rows(kept.order_by(ranked.c[0], ranked.c.id))


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
    chart_events = _chart_events(incident, steps, now, last_event_at)
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
        chart_events=chart_events,
        last_event_at=last_event_at,
        events=events,
        total=int(total or 0),
        older=older,
        newer=newer,
    )
