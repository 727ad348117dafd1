"""Who is watching, in one query: the live poll runs every second for every open page.

Flask-Login's loader builds the whole Person through the ORM (three queries: the person, their
permissions, their roles), which cost more than everything else a poll does. The poll and the
shared fragments only need to know that the signed session is still valid (the person is
active and the session's version is current, as `crisis.people.auth.load_person` checks), what
the person may do and their time zone, read in the same query as the stamps
(crisis.live.stamps.read). Anything with forms or personal data
still goes through Flask-Login.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session

from crisis.enums import Permission
from crisis.live import stamps
from crisis.permissions import grants


@dataclass(frozen=True)
class Watcher:
    person_id: int
    permissions: frozenset[str]
    timezone: str | None

    @property
    def permission_names(self) -> frozenset[str]:
        return self.permissions

    def can(self, permission: Permission | str) -> bool:
        return grants(self.permissions, permission)


def session_person_id() -> tuple[int, int] | None:
    """The (person id, session version) the signed session cookie names, without a query."""
    person_id, _, version = str(session.get("_user_id") or "").partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    return int(person_id), int(version)


def watcher_of(facts: tuple | None, person_id: int, version: int) -> Watcher | None:
    """The watcher, if the facts `stamps.read` returned show a still valid session."""
    if facts is None:
        return None
    active, session_version, timezone, *holds = facts
    if not active or session_version != version:
        return None
    return Watcher(person_id, frozenset(n for n, held in zip(stamps.WATCHED_PERMISSIONS, holds, strict=True) if held), timezone)


def current_watcher() -> Watcher | None:
    """The signed-in person of this request's session, or None (signed out, ended, disabled)."""
    named = session_person_id()
    if named is None:
        return None
    facts, _ = stamps.read(kinds=(), person_id=named[0], watcher=True)
    return watcher_of(facts, *named)
