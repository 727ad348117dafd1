"""SQL pieces the executive figures share: when a step was taken up, the first public response,
and times as seconds, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Float, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from crisis.enums import StepStatus
from crisis.incidents.models import Incident, IncidentStep
from crisis.timeline.models import TimelineEvent

UNFINISHED = (StepStatus.PENDING.value, StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
STARTED_UNFINISHED = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
FIRST_RESPONSE_KIND = "statement.published"


class epoch_seconds(FunctionElement):  # noqa: N801 - named like the SQL functions it stands for
    """Seconds since 1970 of a UTC datetime column, microseconds included."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from strftime, the fraction as
    # written (julianday's double would lose the microseconds).
    value = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {value}) AS INTEGER) + CAST(substr({value}, 20) AS REAL))"


def seconds_between(start, end):
    """`end - start` in seconds, never below zero, NULL when `end` is NULL."""
    span = epoch_seconds(end) - epoch_seconds(start)
    return case((end.is_(None), None), (span < 0, 0.0), else_=span)


def since(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return max(end - start, timedelta(0))


def ack_time():
    """When a step was first taken up: acknowledged, else completed (skips do not count)."""
    done_at = case((IncidentStep.status == StepStatus.DONE.value, IncidentStep.completed_at), else_=None)
    return func.coalesce(IncidentStep.acknowledged_at, done_at)


def first_response():
    """A correlated scalar subquery: when the incident's first statement was published."""
    return (
        select(func.min(TimelineEvent.at))
        .where(TimelineEvent.incident_id == Incident.id, TimelineEvent.kind == FIRST_RESPONSE_KIND)
        .correlate(Incident)
        .scalar_subquery()
    )
