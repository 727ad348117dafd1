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
from datetime import datetime

from sqlalchemy import and_, func, or_, select

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
from crisis.executive.svg import INCIDENT_KINDS, is_late
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.statements.models import Statement
from crisis.timeline.models import TimelineEvent

PAGE_SIZE = 200
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
    chart_events = event_rows(event_query(incident.id).where(_chart_kinds()))
    last_event_at = db.session.scalar(
        select(func.max(TimelineEvent.at)).where(TimelineEvent.incident_id == incident.id)
    )
    total = db.session.scalar(
        select(func.count()).select_from(TimelineEvent).where(TimelineEvent.incident_id == incident.id, _of_kind(kind))
    )
    events, older, newer = _page_events(incident, kind, before, after, size)
    return TimelinePage(
        incident=incident,
        steps=steps,
        statements=published_statements(incident),
        # The figures read only escalations and published statements, all among the chart's events.
        figures=figures_of(incident, steps, chart_events, now),
        now=now,
        chart_events=chart_events,
        last_event_at=last_event_at,
        events=events,
        total=int(total or 0),
        older=older,
        newer=newer,
    )
