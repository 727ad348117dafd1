"""Reading incidents: one incident with its steps, lists, a person's steps, timelines, warnings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from crisis import clock
from crisis.db.keyset import after_key
from crisis.db.reads import first_row
from crisis.enums import (
    APPLICABILITY,
    OPEN_STATUSES,
    IncidentStatus,
    Permission,
)
from crisis.errors import InvalidInput, incident_not_found
from crisis.extensions import db
from crisis.incidents.changes import RUNNING, STATUSES, UNFINISHED
from crisis.incidents.checks import check_severity
from crisis.incidents.models import Incident, IncidentStep
from crisis.people.models import Person, RoleMembership
from crisis.people.service import role_primary
from crisis.permissions import LEAD_ROLES, has_permission
from crisis.playbooks.definition import Playbook
from crisis.playbooks.service import definition_of
from crisis.readiness.board import declared_readiness_warning
from crisis.timeline import service as timeline
from crisis.timeline.models import TimelineEvent


def _incident_query():
    # One query for the incident, one for its steps with their owners; the owners' permissions
    # and roles are not needed to show an incident.
    return select(Incident).options(
        selectinload(Incident.steps).joinedload(IncidentStep.owner).options(
            lazyload(Person.permissions), lazyload(Person.roles)
        ),
        selectinload(Incident.links),
        joinedload(Incident.triage_owner).options(lazyload(Person.permissions), lazyload(Person.roles)),
    )


def get_incident(ref: str) -> Incident:
    """Return the incident with this reference, its steps and owners loaded."""
    incident = db.session.scalar(_incident_query().where(Incident.ref == ref.strip().upper()))
    if incident is None:
        raise incident_not_found(ref)
    return incident


def find_incident(ref: str) -> Incident:
    """Return the incident with this reference alone (for work that needs none of its steps)."""
    incident = db.session.scalar(select(Incident).where(Incident.ref == ref.strip().upper()).options(
        lazyload("*")
    ))
    if incident is None:
        raise incident_not_found(ref)
    return incident


def playbook_of(incident: Incident) -> Playbook:
    """Return the playbook definition the incident was opened with (its pinned version)."""
    return definition_of(incident.playbook_version)


def list_incidents(
    *, status: str = "open", severity: str | None = None, owner: Person | None = None, limit: int = 500,
    after: Sequence[Any] | None = None,
) -> list[Incident]:
    """Return incidents, newest first: status open|closed|all or one status; optionally mine;
    optionally only those after the sort key (declared_at, id) of the last one seen."""
    query = select(Incident).options(
        joinedload(Incident.triage_owner).options(lazyload(Person.permissions), lazyload(Person.roles)),
        lazyload(Incident.playbook_version),
    )
    if status == "open":
        query = query.where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
    elif status == "closed":
        query = query.where(Incident.status.in_([IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value]))
    elif status in STATUSES:
        query = query.where(Incident.status == status)
    elif status != "all":
        raise InvalidInput("Choose open, closed, all or a status: " + ", ".join(STATUSES) + ".", field="status")
    if severity:
        query = query.where(Incident.severity == check_severity(severity))
    if owner is not None:
        owns_step = select(IncidentStep.incident_id).where(IncidentStep.owner_id == owner.id)
        query = query.where((Incident.triage_owner_id == owner.id) | Incident.id.in_(owns_step))
    keyset = after_key((Incident.declared_at, Incident.id), after, descending=True)
    if keyset is not None:
        query = query.where(keyset)
    query = query.order_by(Incident.declared_at.desc(), Incident.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def steps_for(person: Person) -> list[IncidentStep]:
    """Return a person's unfinished steps on live incidents: running ones by due time, then pending."""
    live = [s.value for s in OPEN_STATUSES] + [IncidentStatus.RESOLVED.value]
    query = (
        select(IncidentStep)
        .join(Incident)
        .options(joinedload(IncidentStep.incident).options(lazyload(Incident.playbook_version)))
        .where(
            IncidentStep.owner_id == person.id,
            IncidentStep.status.in_(UNFINISHED),
            IncidentStep.applicability != APPLICABILITY[False],
            Incident.status.in_(live),
        )
    )
    steps = list(db.session.scalars(query).unique())
    far = datetime.max.replace(tzinfo=clock.now().tzinfo)
    return sorted(
        steps,
        key=lambda s: (s.status not in RUNNING, s.due_at or far, s.incident.declared_at, s.position),
    )


def late_counts(incident_ids: Sequence[int]) -> dict[int, int]:
    """Return, per incident id, how many running steps are past their due time."""
    if not incident_ids:
        return {}
    rows = db.session.execute(
        select(IncidentStep.incident_id, func.count())
        .where(
            IncidentStep.incident_id.in_(incident_ids),
            IncidentStep.status.in_(RUNNING),
            IncidentStep.due_at < clock.now(),
        )
        .group_by(IncidentStep.incident_id)
    )
    return {incident_id: count for incident_id, count in rows}


def handover_candidates(
    steps: Sequence[IncidentStep], people: Sequence[Person] | None = None
) -> dict[str, list[tuple[Person, list[str]]]]:
    """Return, per step key, who may take it over (holds respond), its role's holders first, with their roles.

    `people` are the active people when the caller has them already (assignable_people()).
    """
    people = [p for p in (assignable_people() if people is None else people) if has_permission(p, Permission.RESPOND)]
    held = {p.id: {m.role for m in p.roles} for p in people}
    labels = {p.id: sorted(f"{m.role} backup" if m.is_backup else m.role for m in p.roles) for p in people}
    return {
        step.key: [
            (p, labels[p.id])
            for p in sorted(people, key=lambda p, role=step.role: (role not in held[p.id], p.name.lower()))
            if p.id != step.owner_id
        ]
        for step in steps
    }


def assignable_people() -> list[Person]:
    """Return the active people, by name, for owner and triage-owner pickers."""
    return list(db.session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name, Person.email)))


def events_of(incident: Incident, *, limit: int | None = None, after: Sequence[Any] | None = None) -> list[TimelineEvent]:
    """Return the incident's timeline (or a page of it after the key (at, id)), oldest first."""
    return timeline.events_for(incident.id, limit=limit, after=after)


def recent_events(incident: Incident, *, limit: int = 15) -> list[TimelineEvent]:
    """Return the newest events of an incident, newest first."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id)
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        .limit(limit)
        # The list shows who acted, by name; their permissions and roles are not needed.
        .options(joinedload(TimelineEvent.actor).options(lazyload(Person.permissions), lazyload(Person.roles)))
    )
    return list(db.session.scalars(query))


def incident_warnings(incident: Incident) -> list[str]:
    """Return what a lead should fix now: no triage owner, steps nobody owns."""
    warnings = []
    playbook = playbook_of(incident)
    if incident.triage_owner is None:
        warnings.append("This incident has no triage owner: name one below.")
    elif (
        incident.declared_by_id == incident.triage_owner_id
        and not incident.triage_owner.holds_role(playbook.triage_role)
        and role_primary(playbook.triage_role) is None
    ):
        warnings.append(
            f"Nobody is on the {playbook.triage_role} roster, so {incident.triage_owner.name} "
            "(who declared it) is the triage owner."
        )
    unowned = [s.title for s in incident.steps if s.owner_id is None and s.status in UNFINISHED and s.applies is not False]
    if unowned:
        warnings.append(f"Nobody owns: {', '.join(unowned)}. Assign them.")
    if unready := declared_readiness_warning(incident_id=incident.id):
        warnings.append(unready)
    return warnings


def action_profile(ref: str, *, person_id: int, admin: bool) -> tuple[bool, tuple[str, ...]]:
    """What decides which step actions a person is offered on an incident, read in one query.

    The answer is (whether they lead it, the keys of the steps they own): `is_lead` and
    `can_act_on_step` of crisis.permissions, in SQL. People with the same profile are offered
    the same actions, so the live incident page renders once for all of them.
    """
    if admin:
        return True, ()
    owned = (
        select(func.aggregate_strings(IncidentStep.key, ","))
        .where(IncidentStep.incident_id == Incident.id, IncidentStep.owner_id == person_id)
        .scalar_subquery()
    )
    # Asked on every poll of a responder watching the incident: one read without a transaction.
    row = first_row(
        select(
            Incident.triage_owner_id,
            exists().where(RoleMembership.person_id == person_id, RoleMembership.role.in_(LEAD_ROLES)),
            owned,
        ).where(Incident.ref == ref.strip().upper())
    )
    if row is None:
        raise incident_not_found(ref)
    triage_owner_id, holds_lead_role, keys = row
    if triage_owner_id == person_id or holds_lead_role:
        return True, ()
    return False, tuple(sorted(keys.split(","))) if keys else ()
