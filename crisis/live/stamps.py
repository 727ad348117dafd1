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

A poll asks for several parts at once and also checks who is asking (crisis.live.access): all
of it is one SELECT of scalar subqueries (`read`), one round trip to the database, built once
per combination of parts.

Newest-id parts rely on ids growing in commit order. On PostgreSQL two transactions writing to
the same incident can commit out of id order within milliseconds; a viewer who polled in that
gap sees the earlier one at the next change or the next tick.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app
from sqlalchemy import String, and_, bindparam, exists, func, literal, select

from crisis import clock
from crisis.database import DriverStatement, lookup_connection
from crisis.enums import NotificationChannel, Permission
from crisis.errors import NotFound
from crisis.incidents.models import Incident, IncidentLink, IncidentStep
from crisis.notifications.models import Notification
from crisis.people.models import Person, PersonPermission
from crisis.timeline.models import TimelineEvent

DEFAULT_TICK_SECONDS = 15
KINDS = ("incident", "board", "steps", "bell")
# What a watcher may hold that the live parts care about.
WATCHED_PERMISSIONS = (Permission.ADMIN.value, Permission.VIEW.value, Permission.RESPOND.value, Permission.DECLARE.value)

_events, _steps, _links = TimelineEvent.__table__, IncidentStep.__table__, IncidentLink.__table__
_notifications, _incidents = Notification.__table__, Incident.__table__
_people, _permissions = Person.__table__, PersonPermission.__table__


def _text(value) -> Any:
    return func.coalesce(value, 0).cast(String)


def _counters(table, column, value) -> Any:
    """count.sum(revision).max(id) of `table`'s rows whose `column` is `value`, as one text.

    An update grows the sum (also when two commit concurrently, which a maximum would miss),
    an insert grows the highest id, a delete lowers the count.
    """
    return (
        select(func.count().cast(String) + "." + _text(func.sum(table.c.revision)) + "." + _text(func.max(table.c.id)))
        .where(table.c[column] == value)
        .scalar_subquery()
    )


def _columns(kind: str) -> list[Any]:
    if kind == "incident":
        incident_id = select(_incidents.c.id).where(_incidents.c.ref == bindparam("ref")).scalar_subquery()
        return [
            incident_id,
            select(_incidents.c.revision).where(_incidents.c.ref == bindparam("ref")).scalar_subquery(),
            _counters(_steps, "incident_id", incident_id),
            _counters(_links, "incident_id", incident_id),
            select(func.max(_events.c.id)).where(_events.c.incident_id == incident_id).scalar_subquery(),
        ]
    if kind == "board":
        return [select(func.max(_events.c.id)).scalar_subquery(), select(func.max(_incidents.c.id)).scalar_subquery()]
    if kind == "steps":
        return [_counters(_steps, "owner_id", bindparam("person_id"))]
    mine = and_(_notifications.c.recipient_id == bindparam("person_id"),
                _notifications.c.channel == NotificationChannel.IN_APP.value)
    return [
        select(func.count()).where(mine, _notifications.c.read_at.is_(None)).scalar_subquery(),
        select(func.count()).where(mine).scalar_subquery(),
        select(func.max(_notifications.c.id)).where(mine).scalar_subquery(),
    ]


def _watcher_columns() -> list[Any]:
    person = _people.c.id == bindparam("person_id")
    return [
        select(_people.c.active).where(person).scalar_subquery(),
        select(_people.c.session_version).where(person).scalar_subquery(),
        select(_people.c.timezone).where(person).scalar_subquery(),
    ] + [
        exists().where(_permissions.c.person_id == bindparam("person_id"), _permissions.c.permission == name)
        for name in WATCHED_PERMISSIONS
    ]


_statements: dict[tuple, DriverStatement] = {}
_statements_lock = threading.Lock()


def _statement(kinds: tuple[str, ...], watcher: bool) -> DriverStatement:
    key = (kinds, watcher)
    with _statements_lock:
        if key not in _statements:
            columns = [literal(1)] + (_watcher_columns() if watcher else [])
            for kind in kinds:
                columns += _columns(kind)
            _statements[key] = DriverStatement(select(*columns))
        return _statements[key]


def tick() -> int:
    """The current tick: time-dependent texts ("due in 3 min") are re-rendered once per tick."""
    seconds = int(current_app.config.get("LIVE_TICK_SECONDS", DEFAULT_TICK_SECONDS))
    return int(clock.now().timestamp()) // max(seconds, 1)


def read(*, kinds: tuple[str, ...], ref: str | None = None, person_id: int | None = None,
         watcher: bool = False) -> tuple[tuple | None, list[str | None]]:
    """Read the stamps of `kinds` (and, with `watcher`, the person's session facts) in one query.

    Returns (watcher facts or None, one stamp per kind); an unknown `ref`'s stamp is None.
    """
    params: dict[str, Any] = {}
    if "incident" in kinds:
        params["ref"] = (ref or "").strip().upper()
    if watcher or "steps" in kinds or "bell" in kinds:
        params["person_id"] = person_id
    row = list(_statement(kinds, watcher).one_or_none(lookup_connection(), params))[1:]
    facts = None
    if watcher:
        facts, row = tuple(row[:3 + len(WATCHED_PERMISSIONS)]), row[3 + len(WATCHED_PERMISSIONS):]
    now_tick = tick()
    found = []
    for kind in kinds:
        if kind == "incident":
            incident_id, revision, steps, links, newest = row[:5]
            row = row[5:]
            found.append(None if incident_id is None else f"{incident_id}.{revision}.{steps}.{links}.{newest or 0}.{now_tick}")
        elif kind == "board":
            newest_event, newest_incident = row[:2]
            row = row[2:]
            found.append(f"{newest_event or 0}.{newest_incident or 0}.{now_tick}")
        elif kind == "steps":
            found.append(f"{row[0]}.{now_tick}")
            row = row[1:]
        else:
            unread, total, newest = row[:3]
            row = row[3:]
            found.append(f"{unread}.{total}.{newest or 0}")
    return facts, found


def incident_stamp(*, ref: str) -> str:
    """Stamp of an incident page's live part (raises NotFound for an unknown reference)."""
    stamp = read(kinds=("incident",), ref=ref)[1][0]
    if stamp is None:
        raise NotFound(f"no incident {ref!r}", field="ref")
    return stamp


def board_stamp() -> str:
    """Stamp of the dashboard: any new incident or any new timeline event changes it."""
    return read(kinds=("board",))[1][0]


def steps_stamp(*, person_id: int) -> str:
    """Stamp of a person's My steps: any change to a step they own, or one more or fewer."""
    return read(kinds=("steps",), person_id=person_id)[1][0]


def bell_stamp(*, person_id: int) -> str:
    """Stamp of a person's bell: unread and total in-app notifications and the newest one."""
    return read(kinds=("bell",), person_id=person_id)[1][0]
