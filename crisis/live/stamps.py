"""Change stamps: short strings, read with one indexed query, that change when a live page's content does.

Everything a live page shows is in the database, written by whichever web worker, scheduler
process or machine did the work, so the stamps are read from the database too, never from one
process's memory:

- an incident's steps: how many timeline events it has and the newest one, notes aside. Every
  change to an incident, its steps, links and statements writes its timeline event in the same
  transaction (the project's rule), so the events are the change log; the count also moves when
  two writers commit out of id order, which the newest id alone would miss. A note changes only
  the list of events, so the steps (rendered once per set of actions offered) are not rendered
  again for it;
- an incident's recent events: the same over all its events, notes included;
- the dashboard: the newest incident and the newest timeline event anywhere;
- a person's steps: how many steps they own, the count and newest of the events (notes aside)
  of the incidents those steps belong to, and the approvals pending on their roles;
- a person's bell: how many in-app notifications are unread and the newest one.

Texts such as "due in 3 min" change with time alone, so every stamp also carries the current
tick of `LIVE_TICK_SECONDS`.

A poll asks for several parts at once and also checks who is asking (crisis.live.access): all
of it is one SELECT of scalar subqueries (`read`), one round trip to the database, built once
per combination of parts.

The dashboard's newest-id parts rely on ids growing in commit order. On PostgreSQL two
transactions can commit out of id order within milliseconds; a dashboard viewer who polled in
that gap sees the earlier one at the next change or the next tick.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app
from sqlalchemy import String, and_, bindparam, exists, func, literal, select

from crisis import clock
from crisis.db.reads import first_row
from crisis.enums import NotificationChannel, Permission
from crisis.errors import incident_not_found
from crisis.incidents.models import Incident, IncidentStep
from crisis.notifications.models import Notification
from crisis.people.models import Person, PersonPermission, RoleMembership
from crisis.statements.models import StatementApproval
from crisis.timeline.models import TimelineEvent

DEFAULT_TICK_SECONDS = 15
KINDS = ("incident", "events", "board", "steps", "bell")
# The kinds that name an incident (kind:REF); a poll names at most one incident.
INCIDENT_KINDS = ("incident", "events")
# What a watcher may hold that the live parts care about.
WATCHED_PERMISSIONS = (Permission.ADMIN.value, Permission.VIEW.value, Permission.RESPOND.value, Permission.DECLARE.value)

_events, _steps = TimelineEvent.__table__, IncidentStep.__table__
_notifications, _incidents = Notification.__table__, Incident.__table__
_people, _permissions = Person.__table__, PersonPermission.__table__
_approvals, _memberships = StatementApproval.__table__, RoleMembership.__table__


def _events_where(where: Any) -> Any:
    """count.max(id) of the timeline events matching `where`, as one text."""
    return (
        select(func.count().cast(String) + "." + func.coalesce(func.max(_events.c.id), 0).cast(String))
        .where(where)
        .scalar_subquery()
    )


def _columns(kind: str) -> list[Any]:
    if kind in INCIDENT_KINDS:
        incident_id = select(_incidents.c.id).where(_incidents.c.ref == bindparam("ref")).scalar_subquery()
        if kind == "events":
            return [incident_id, _events_where(_events.c.incident_id == incident_id)]
        return [incident_id, _events_where(and_(_events.c.incident_id == incident_id,
                                                _events.c.kind != "incident.note"))]
    if kind == "board":
        return [select(func.max(_events.c.id)).scalar_subquery(), select(func.max(_incidents.c.id)).scalar_subquery()]
    if kind == "steps":
        owned = _steps.c.owner_id == bindparam("person_id")
        return [
            select(func.count()).where(owned).scalar_subquery(),
            # A note changes the incident page, not the list of a person's steps.
            _events_where(and_(_events.c.incident_id.in_(select(_steps.c.incident_id).where(owned)),
                               _events.c.kind != "incident.note")),
            # My steps also lists the statements waiting on the person's roles to approve.
            select(func.count().cast(String) + "." + func.coalesce(func.max(_approvals.c.id), 0).cast(String))
            .where(_approvals.c.status == "pending",
                   _approvals.c.role.in_(select(_memberships.c.role).where(
                       _memberships.c.person_id == bindparam("person_id"))))
            .scalar_subquery(),
        ]
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


_statements: dict[tuple, Any] = {}
_statements_lock = threading.Lock()


def _statement(kinds: tuple[str, ...], watcher: bool) -> Any:
    key = (kinds, watcher)
    with _statements_lock:
        if key not in _statements:
            columns = [literal(1)] + (_watcher_columns() if watcher else [])
            for kind in kinds:
                columns += _columns(kind)
            _statements[key] = select(*columns)
        return _statements[key]


def tick() -> int:
    """The current tick: time-dependent texts ("due in 3 min") are re-rendered once per tick."""
    return int(clock.now().timestamp()) // tick_seconds()


def tick_seconds() -> int:
    return max(int(current_app.config.get("LIVE_TICK_SECONDS", DEFAULT_TICK_SECONDS)), 1)


def only_tick_moved(old: str, new: str) -> bool:
    """Whether two stamps of one incident or dashboard part differ in their tick alone (the content is the same)."""
    old_content, _, old_tick = old.rpartition(".")
    new_content, _, new_tick = new.rpartition(".")
    return old_content == new_content and old_tick != new_tick


def read(*, kinds: tuple[str, ...], ref: str | None = None, person_id: int | None = None,
         watcher: bool = False) -> tuple[tuple | None, list[str | None]]:
    """Read the stamps of `kinds` (and, with `watcher`, the person's session facts) in one query.

    Returns (watcher facts or None, one stamp per kind); an unknown `ref`'s stamp is None.
    """
    params: dict[str, Any] = {}
    if set(INCIDENT_KINDS) & set(kinds):
        params["ref"] = (ref or "").strip().upper()
    if watcher or "steps" in kinds or "bell" in kinds:
        params["person_id"] = person_id
    row = list(first_row(_statement(kinds, watcher), params))[1:]
    facts = None
    if watcher:
        facts, row = tuple(row[:3 + len(WATCHED_PERMISSIONS)]), row[3 + len(WATCHED_PERMISSIONS):]
    now_tick = tick()
    found = []
    for kind in kinds:
        if kind in INCIDENT_KINDS:
            incident_id, events = row[:2]
            row = row[2:]
            found.append(None if incident_id is None else f"{incident_id}.{events}.{now_tick}")
        elif kind == "board":
            newest_event, newest_incident = row[:2]
            row = row[2:]
            found.append(f"{newest_event or 0}.{newest_incident or 0}.{now_tick}")
        elif kind == "steps":
            found.append(f"{row[0]}.{row[1]}.{row[2]}.{now_tick}")
            row = row[3:]
        else:
            unread, total, newest = row[:3]
            row = row[3:]
            found.append(f"{unread}.{total}.{newest or 0}")
    return facts, found


def incident_stamp(*, ref: str) -> str:
    """Stamp of an incident page's steps (raises NotFound for an unknown reference)."""
    return incident_stamps(ref=ref)[0]


def events_stamp(*, ref: str) -> str:
    """Stamp of an incident page's recent events (raises NotFound for an unknown reference)."""
    return incident_stamps(ref=ref, kinds=("events",))[0]


def incident_stamps(*, ref: str, kinds: tuple[str, ...] = ("incident",)) -> list[str]:
    """Stamps of some of an incident page's parts, in one query (raises NotFound for an unknown reference)."""
    found = read(kinds=kinds, ref=ref)[1]
    if None in found:
        raise incident_not_found(ref)
    return found


def board_stamp() -> str:
    """Stamp of the dashboard: any new incident or any new timeline event changes it."""
    return read(kinds=("board",))[1][0]


def steps_stamp(*, person_id: int) -> str:
    """Stamp of a person's My steps: any change to a step they own, or one more or fewer."""
    return read(kinds=("steps",), person_id=person_id)[1][0]


def bell_stamp(*, person_id: int) -> str:
    """Stamp of a person's bell: unread and total in-app notifications and the newest one."""
    return read(kinds=("bell",), person_id=person_id)[1][0]
