"""Who is ready for each response role, and each playbook's last drill.

A person is *ready* for a role when they are active, reachable (email or in-app notifications
on) and trained: they hold a valid completion of every course that names the role (a role no
course names needs none). *Drilled* means they took part in a drill that started within the
last 90 days; it is shown beside readiness, not required for it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from crisis import clock
from crisis.drills.models import DrillRun
from crisis.drills.scoring import score_incident
from crisis.enums import ResponseRole
from crisis.extensions import db
from crisis.people.models import Person, RoleMembership
from crisis.playbooks.models import PlaybookVersion
from crisis.playbooks.service import list_playbooks
from crisis.timeline.models import TimelineEvent
from crisis.training.courses import Course, courses
from crisis.training.models import TrainingCompletion

DRILLED_WITHIN = timedelta(days=90)


@dataclass
class Holder:
    person: Person
    is_backup: bool
    trained: bool
    drilled: bool
    reachable: bool

    @property
    def ready(self) -> bool:
        return self.person.active and self.trained and self.reachable


@dataclass
class RoleReadiness:
    role: str
    courses: list[Course]
    holders: list[Holder] = field(default_factory=list)

    @property
    def ready_count(self) -> int:
        return sum(1 for h in self.holders if h.ready)


@dataclass
class PlaybookDrill:
    key: str
    title: str
    last_run: DrillRun | None
    last_score: float | None


def role_readiness(*, roles: list[str] | None = None, now: datetime | None = None) -> list[RoleReadiness]:
    """Return every (or the given) response role with its holders' readiness."""
    now = now or clock.now()
    roles = roles if roles is not None else [r.value for r in ResponseRole]
    known = list(courses().values())
    by_role = {role: [c for c in known if role in c.roles] for role in roles}
    memberships = db.session.execute(
        select(RoleMembership, Person).join(Person, Person.id == RoleMembership.person_id)
        .where(RoleMembership.role.in_(roles))
        .order_by(RoleMembership.is_backup, RoleMembership.rank, Person.name)
    ).all()
    people = {person.id for _, person in memberships}
    valid: dict[int, set[str]] = defaultdict(set)
    for person_id, course_key in db.session.execute(
        select(TrainingCompletion.person_id, TrainingCompletion.course_key)
        .where(TrainingCompletion.person_id.in_(people), TrainingCompletion.expires_at > now)
    ):
        valid[person_id].add(course_key)
    drilled = _drilled_people(people, now)
    result = {role: RoleReadiness(role, by_role[role]) for role in roles}
    for membership, person in memberships:
        needed = {c.key for c in by_role[membership.role]}
        result[membership.role].holders.append(Holder(
            person=person, is_backup=membership.is_backup, trained=needed <= valid[person.id],
            drilled=person.id in drilled, reachable=person.active and (person.notify_email or person.notify_in_app),
        ))
    return [result[role] for role in roles]


def _drilled_people(people: set[int], now: datetime) -> set[int]:
    if not people:
        return set()
    recent = select(DrillRun.incident_id).where(DrillRun.started_at >= now - DRILLED_WITHIN)
    return set(db.session.scalars(
        select(TimelineEvent.actor_id).where(TimelineEvent.incident_id.in_(recent), TimelineEvent.actor_id.in_(people))
        .distinct()
    ))


def unready_roles(*, roles: set[str], now: datetime | None = None) -> list[str]:
    """Return the roles (of those given) that nobody is ready for, sorted.

    The same rule as role_readiness, in two column-only queries: declaring a SEV1/SEV2 asks this.
    """
    now = now or clock.now()
    known = list(courses().values())
    needed = {role: {c.key for c in known if role in c.roles} for role in roles}
    reachable = db.session.execute(
        select(RoleMembership.role, Person.id).join(Person, Person.id == RoleMembership.person_id)
        .where(RoleMembership.role.in_(roles), Person.active.is_(True),
               Person.notify_email.is_(True) | Person.notify_in_app.is_(True))
    ).all()
    valid: dict[int, set[str]] = defaultdict(set)
    if reachable and any(needed.values()):
        for person_id, course_key in db.session.execute(
            select(TrainingCompletion.person_id, TrainingCompletion.course_key).where(
                TrainingCompletion.person_id.in_({person_id for _, person_id in reachable}),
                TrainingCompletion.expires_at > now,
            )
        ):
            valid[person_id].add(course_key)
    ready = {role for role, person_id in reachable if needed[role] <= valid[person_id]}
    return sorted(set(roles) - ready)


def readiness_warning(*, roles: set[str]) -> str | None:
    """The warning a SEV1/SEV2 declaration carries when a role it needs has nobody ready."""
    unready = unready_roles(roles=roles)
    if not unready:
        return None
    names = ", ".join(role.replace("-", " ") for role in unready)
    return (f"Nobody is ready (trained and reachable) for: {names}. "
            "See the readiness board and record or renew their training.")


def playbook_drills() -> list[PlaybookDrill]:
    """Return each current playbook with its last drill and that drill's score (None if never)."""
    result = []
    for version in list_playbooks():
        run = db.session.scalar(
            select(DrillRun).join(DrillRun.incident).join(PlaybookVersion)
            .where(PlaybookVersion.key == version.key)
            .order_by(DrillRun.started_at.desc(), DrillRun.id.desc()).limit(1)
        )
        score = score_incident(incident=run.incident).on_time_share if run is not None and run.ended_at else None
        result.append(PlaybookDrill(version.key, version.title, run, score))
    return result


def declared_readiness_warning(*, incident_id: int) -> str | None:
    """Return the readiness warning the incident was declared with, if any."""
    data = db.session.scalar(
        select(TimelineEvent.data).where(TimelineEvent.incident_id == incident_id,
                                         TimelineEvent.kind == "incident.declared").limit(1)
    )
    return (data or {}).get("readiness_warning")
