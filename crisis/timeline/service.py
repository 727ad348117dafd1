"""The one way anything is written to an incident's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select

from crisis import clock
from crisis.db.keyset import after_key
from crisis.extensions import db
from crisis.people.models import Person
from crisis.people.service import PersonRef
from crisis.timeline.models import TimelineEvent


def record(
    *,
    incident_id: int,
    kind: str,
    summary: str,
    actor: Person | None = None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """Append one event to an incident's timeline, in the caller's transaction.

    `kind` is a dotted name (incident.declared, step.completed, ...). A step's events carry
    data["step"]; changes carry data["before"] and data["after"].
    """
    event = TimelineEvent(
        incident_id=incident_id,
        kind=kind,
        summary=summary[:1000],
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label,
        data=data or {},
        at=at or clock.now(),
    )
    db.session.add(event)
    return event


def record_all(
    *,
    incident_id: int,
    events: Sequence[tuple[str, str, dict[str, Any]]],
    actor: Person | PersonRef | None = None,
    actor_label: str = "",
    at: datetime | None = None,
) -> None:
    """Append several (kind, summary, data) events of one actor and moment with one INSERT.

    For callers that write many events at once (declaring an incident); the rows are the ones
    `record` would write, in order, in the caller's transaction.
    """
    record_many([
        {"incident_id": incident_id, "kind": kind, "summary": summary, "actor": actor, "actor_label": actor_label,
         "data": data, "at": at}
        for kind, summary, data in events
    ])


def record_many(events: Sequence[dict[str, Any]]) -> None:
    """Append events, each given as `record`'s keyword arguments, with one executemany INSERT.

    For writers of many events across incidents (the escalation sweep): no row is loaded back,
    so on PostgreSQL the batch goes as one pipelined statement.
    """
    if not events:
        return
    now = clock.now()
    # The session's transaction flushes pending events first, so ids keep the call order.
    db.session.execute(
        insert(TimelineEvent),
        [
            {"incident_id": event["incident_id"], "kind": event["kind"], "summary": event["summary"][:1000],
             "actor_id": event["actor"].id if event.get("actor") is not None else None,
             "actor_label": event.get("actor_label", ""), "data": event.get("data") or {},
             "at": event.get("at") or now}
            for event in events
        ],
    )


def events_for(
    incident_id: int, *, kinds: Sequence[str] | None = None, limit: int | None = None,
    after: Sequence[Any] | None = None,
) -> list[TimelineEvent]:
    """Return an incident's events, oldest first, optionally only some kinds (prefixes allowed)
    and only those after the sort key (at, id) of the last one seen."""
    query = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
    keyset = after_key((TimelineEvent.at, TimelineEvent.id), after, descending=False)
    if keyset is not None:
        query = query.where(keyset)
    if kinds:
        query = query.where(or_(*[TimelineEvent.kind.startswith(k) for k in kinds]))
    return list(db.session.scalars(query.order_by(TimelineEvent.at, TimelineEvent.id).limit(limit)))
