"""Who is watching, in one query: the live poll runs every second for every open page.

Flask-Login's loader builds the whole Person through the ORM (three queries: the person, their
permissions, their roles), which cost more than everything else a poll does. The poll and the
shared fragments only need to know that the signed session is still valid (the person is
active and the session's version is current, as `crisis.people.auth.load_person` checks), what
the person may do and their time zone: one joined read. Anything with forms or personal data
still goes through Flask-Login.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session
from sqlalchemy import bindparam, select

from crisis.database import DriverStatement, lookup_connection
from crisis.enums import Permission
from crisis.people.models import Person, PersonPermission

_people, _permissions = Person.__table__, PersonPermission.__table__
_WATCHER = DriverStatement(
    select(_people.c.active, _people.c.session_version, _people.c.timezone, _permissions.c.permission)
    .select_from(_people.outerjoin(_permissions, _permissions.c.person_id == _people.c.id))
    .where(_people.c.id == bindparam("person_id"))
)


@dataclass(frozen=True)
class Watcher:
    person_id: int
    permissions: frozenset[str]
    timezone: str | None

    def can(self, permission: Permission | str) -> bool:
        return Permission.ADMIN.value in self.permissions or str(permission) in self.permissions


def current_watcher() -> Watcher | None:
    """The signed-in person of this request's session, or None (signed out, ended, disabled)."""
    person_id, _, version = str(session.get("_user_id") or "").partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    rows = _WATCHER.all(lookup_connection(), {"person_id": int(person_id)})
    if not rows:
        return None
    active, session_version, timezone, _ = rows[0]
    if not active or session_version != int(version):
        return None
    return Watcher(int(person_id), frozenset(row[3] for row in rows if row[3]), timezone)
