"""What the executive pages read: one incident with its steps, events, statements and figures."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, select, type_coerce

from crisis import clock
from crisis.enums import StepStatus
from crisis.errors import InvalidInput
from crisis.executive.svg import is_late
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.incidents.queries import find_incident
from crisis.people.models import Person
from crisis.reviews.models import PostIncidentReview
from crisis.reviews.service import get_review
from crisis.statements.models import Statement
from crisis.timeline.models import TimelineEvent

KIND_PATTERN = re.compile(r"^[a-z_]+(\.[a-z_]*)?$")
FIRST_RESPONSE_KIND = "statement.published"


class EventRow(NamedTuple):
    """A read-only timeline event as the executive pages show it (duck-types TimelineEvent)."""

    at: datetime
    kind: str
    summary: str
    data: dict[str, Any]
    actor_name: str
    # The actor's name, for pages (actor_name is the email, as in the API and the exports).
    actor_display: str = ""
    id: int = 0


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_query(incident_id: int):
    """The select of an incident's events as `event_rows` reads them, oldest first; callers narrow it."""
    events, people = TimelineEvent.__table__.c, Person.__table__.c
    return (
        select(
            type_coerce(events.at, String), events.kind, events.summary, type_coerce(events.data, String),
            events.actor_label, people.email, people.name, events.id,
        )
        .select_from(TimelineEvent.__table__.outerjoin(Person.__table__, people.id == events.actor_id))
        .where(events.incident_id == incident_id)
        .order_by(events.at, events.id)
    )


def event_rows(query) -> list[EventRow]:
    """Run an `event_query` and return plain rows (thousands load in milliseconds).

    The time and data columns are read raw and converted here: SQLAlchemy's per-row SQLite
    datetime parsing is half the cost of loading a 5,000-event timeline. (SQLite hands back
    text, PostgreSQL a naive UTC datetime and a parsed JSON value.)
    """
    rows = []
    for at, kind, summary, data, label, email, name, event_id in db.session.connection().execute(query):
        if isinstance(data, str):
            data = json.loads(data)
        actor = label or "system"
        rows.append(EventRow(
            _utc(at), kind, summary, data if isinstance(data, dict) else {}, email or actor, name or actor, event_id,
        ))
    return rows


def load_events(incident_id: int) -> list[EventRow]:
    """Return all the incident's events, oldest first (the exports and reports; pages read a page)."""
    return event_rows(event_query(incident_id))


@dataclass
class IncidentFigures:
    """The headline numbers of one incident, with the definitions of crisis.executive.metrics."""

    time_to_ack: timedelta | None
    time_to_response: timedelta | None
    time_to_resolve: timedelta | None
    steps_due: int
    steps_on_time: int
    steps_late: int
    escalations: int
    highest_level: int


@dataclass
class IncidentView:
    incident: Incident
    steps: list[IncidentStep]
    events: list[EventRow]
    statements: list[Statement]
    review: PostIncidentReview | None
    figures: IncidentFigures
    now: datetime

    @property
    def late_steps(self) -> list[IncidentStep]:
        return [s for s in self.steps if is_late(s, self.now)]


def check_kind(kind: str | None) -> str:
    """Return a valid event-kind filter ('' for all), or raise InvalidInput naming `kind`."""
    kind = (kind or "").strip()
    if kind and (len(kind) > 64 or not KIND_PATTERN.match(kind)):
        raise InvalidInput(
            f"Kind {kind!r} is not an event kind or prefix such as 'step.' or 'step.escalated'", field="kind"
        )
    return kind


def filter_events(events: Sequence[EventRow], kind: str) -> list[EventRow]:
    """Return the events whose kind starts with `kind` (all of them for '')."""
    if not kind:
        return list(events)
    return [e for e in events if e.kind.startswith(kind)]


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    return None if end is None else max(end - start, timedelta(0))


def figures_of(incident: Incident, steps: Sequence[IncidentStep], events: Sequence[EventRow], now: datetime) -> IncidentFigures:
    """Return the incident's response figures from its loaded steps and events."""
    done_at = {s.id: s.completed_at for s in steps if s.status == StepStatus.DONE}
    acks = [t for s in steps for t in (s.acknowledged_at or done_at.get(s.id),) if t is not None]
    published = [e.at for e in events if e.kind == FIRST_RESPONSE_KIND]
    fell_due = [
        s for s in steps
        if s.due_at is not None and s.status != StepStatus.SKIPPED and (s.status == StepStatus.DONE or s.due_at < now)
    ]
    on_time = [s for s in fell_due if s.status == StepStatus.DONE and s.completed_at is not None and s.completed_at <= s.due_at]
    escalations = [e for e in events if e.kind == "step.escalated"]
    return IncidentFigures(
        time_to_ack=_since(incident.declared_at, min(acks, default=None)),
        time_to_response=_since(incident.declared_at, min(published, default=None)),
        time_to_resolve=_since(incident.declared_at, incident.resolved_at),
        steps_due=len(fell_due),
        steps_on_time=len(on_time),
        steps_late=sum(1 for s in steps if is_late(s, now)),
        escalations=len(escalations),
        highest_level=max((s.escalation_level for s in steps), default=0),
    )


def published_statements(incident: Incident) -> list[Statement]:
    """Return what the company said in public on this incident, oldest first."""
    return list(
        db.session.scalars(
            select(Statement)
            .where(Statement.incident_id == incident.id, Statement.published_at.is_not(None))
            .order_by(Statement.published_at, Statement.id)
        )
    )


def load_incident_view(*, ref: str, now: datetime | None = None) -> IncidentView:
    """Return everything the timeline page and the reports show of one incident."""
    now = now or clock.now()
    incident = find_incident(ref)
    steps = list(incident.steps)
    events = load_events(incident.id)
    return IncidentView(
        incident=incident,
        steps=steps,
        events=events,
        statements=published_statements(incident),
        review=get_review(incident),
        figures=figures_of(incident, steps, events, now),
        now=now,
    )
