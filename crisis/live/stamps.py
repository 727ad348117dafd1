"""Change stamps: short strings, read with one indexed query, that change when a live page's content does.

Everything a live page shows is in the database, written by whichever web worker, scheduler
process or machine did the work, so the stamps are read from the database too, never from one
process's memory:

- an incident: the revision counters its rows carry (crisis.incidents.revisions; the triggers
  bump them on every UPDATE from any writer) and the newest timeline event of the incident
  (notes, statement changes, escalations are all events);
- the dashboard: the newest incident and the newest timeline event anywhere;
- a person's steps: count, sum of revisions and newest id of the steps they own;
- a person's bell: how many in-app notifications are unread and the newest one.

Texts such as "due in 3 min" change with time alone, so every stamp also carries the current
tick of `LIVE_TICK_SECONDS`.

Newest-id parts rely on ids growing in commit order. On PostgreSQL two transactions writing to
the same incident can commit out of id order within milliseconds; a viewer who polled in that
gap sees the earlier one at the next change or the next tick.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import String, bindparam, func, select

from crisis import clock
from crisis.database import DriverStatement, lookup_connection
from crisis.enums import NotificationChannel
from crisis.incidents.models import Incident, IncidentStep
from crisis.incidents.service import incident_stamp as incident_rows_stamp
from crisis.notifications.models import Notification
from crisis.timeline.models import TimelineEvent

DEFAULT_TICK_SECONDS = 15

_events = TimelineEvent.__table__
_steps = IncidentStep.__table__
_notifications = Notification.__table__
_incidents = Incident.__table__

_INCIDENT_EVENTS = DriverStatement(
    select(func.coalesce(func.max(_events.c.id), 0))
    .select_from(_incidents.join(_events, _events.c.incident_id == _incidents.c.id, isouter=True))
    .where(_incidents.c.ref == bindparam("ref"))
)
_BOARD = DriverStatement(
    select(
        select(func.coalesce(func.max(_events.c.id), 0)).scalar_subquery(),
        select(func.coalesce(func.max(_incidents.c.id), 0)).scalar_subquery(),
    )
)
_PERSON_STEPS = DriverStatement(
    select(
        func.count().cast(String) + "." + func.coalesce(func.sum(_steps.c.revision), 0).cast(String)
        + "." + func.coalesce(func.max(_steps.c.id), 0).cast(String)
    ).where(_steps.c.owner_id == bindparam("person_id"))
)
_BELL = DriverStatement(
    select(func.count(_notifications.c.read_at), func.count(), func.coalesce(func.max(_notifications.c.id), 0)).where(
        _notifications.c.recipient_id == bindparam("person_id"),
        _notifications.c.channel == NotificationChannel.IN_APP.value,
    )
)


def tick() -> int:
    """The current tick: time-dependent texts ("due in 3 min") are re-rendered once per tick."""
    seconds = int(current_app.config.get("LIVE_TICK_SECONDS", DEFAULT_TICK_SECONDS))
    return int(clock.now().timestamp()) // max(seconds, 1)


def incident_stamp(*, ref: str) -> str:
    """Stamp of an incident page's live part (raises NotFound for an unknown reference)."""
    rows = incident_rows_stamp(ref)
    (newest_event,) = _INCIDENT_EVENTS.one_or_none(lookup_connection(), {"ref": ref.strip().upper()})
    return f"{rows}.{newest_event}.{tick()}"


def board_stamp() -> str:
    """Stamp of the dashboard: any new incident or any new timeline event changes it."""
    newest_event, newest_incident = _BOARD.one_or_none(lookup_connection(), {})
    return f"{newest_event}.{newest_incident}.{tick()}"


def steps_stamp(*, person_id: int) -> str:
    """Stamp of a person's My steps: any change to a step they own, or one more or fewer."""
    (counters,) = _PERSON_STEPS.one_or_none(lookup_connection(), {"person_id": person_id})
    return f"{counters}.{tick()}"


def bell_stamp(*, person_id: int) -> str:
    """Stamp of a person's bell: read and unread counts and the newest in-app notification."""
    read, total, newest = _BELL.one_or_none(lookup_connection(), {"person_id": person_id})
    return f"{total - read}.{total}.{newest}"
