"""Running a drill: start it from a scenario, post its injects on time, end it (early, if need be).

A drill is an ordinary incident with `is_drill` set, so the team practises on the real screens;
the metrics already leave drills out. The injects live in their own table and the scheduler's
sweep posts each one once (a compare-and-set claim on `posted_at`), so several schedulers and
downtime behave as they do for escalations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from crisis import clock
from crisis.db.engine import reading
from crisis.drills.marking import DRILL_MARK
from crisis.drills.models import DrillInject, DrillRun
from crisis.drills.practice import record_practice
from crisis.drills.scenarios import get_scenario
from crisis.enums import IncidentStatus, Permission
from crisis.errors import Conflict, Forbidden, NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.incidents.service import change_incident, declare_incident
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.people.service import role_holders
from crisis.permissions import can_end_drill, has_permission
from crisis.timeline.service import record

OPEN = tuple(s.value for s in (IncidentStatus.DECLARED, IncidentStatus.TRIAGE, IncidentStatus.RESPONDING,
                                IncidentStatus.MONITORING))


def start_drill(*, scenario_key: str, actor: Person) -> DrillRun:
    """Open a drill incident from a scenario and schedule its injects from the declaration time."""
    if not has_permission(actor, Permission.DECLARE):
        raise Forbidden("Starting a drill needs the declare permission", field="actor")
    scenario = get_scenario(scenario_key)
    declared = declare_incident(
        playbook_key=scenario.playbook, title=f"Drill: {scenario.title}", severity=scenario.severity,
        declared_by=actor, summary=scenario.description, is_drill=True, triage_answers=scenario.answers,
    )
    now = clock.now()
    run = DrillRun(
        incident_id=declared.id, scenario_key=scenario.key, scenario_title=scenario.title,
        started_at=now, started_by_id=actor.id,
    )
    run.injects = [
        DrillInject(position=i, key=inject.key, title=inject.title, body=inject.body,
                    roles=",".join(inject.roles), due_at=now + inject.at)
        for i, inject in enumerate(scenario.injects)
    ]
    db.session.add(run)
    db.session.flush()
    record(
        incident_id=declared.id, kind="drill.started", actor=actor, at=now,
        summary=f"{actor.name} started the drill '{scenario.title}' ({len(scenario.injects)} injects)",
        data={"scenario": scenario.key, "injects": [i.key for i in scenario.injects]},
    )
    return run


def post_due_injects(*, now: datetime | None = None) -> int:
    """Post every inject whose time has come on its drill's timeline and to its participants."""
    now = now or clock.now()
    # The probe runs every tick in every scheduler: read-only, so an idle one never queues
    # for SQLite's write lock; the claims below begin their own writing transaction.
    with reading():
        due = db.session.execute(
            select(DrillInject.id, DrillInject.run_id)
            .join(DrillRun, DrillRun.id == DrillInject.run_id)
            .where(DrillInject.posted_at.is_(None), DrillInject.due_at <= now, DrillRun.ended_at.is_(None))
            .order_by(DrillInject.due_at, DrillInject.id)
        ).all()
        db.session.commit()
    posted = 0
    for inject_id, _ in due:
        claimed = db.session.execute(
            update(DrillInject).where(DrillInject.id == inject_id, DrillInject.posted_at.is_(None))
            .values(posted_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue  # another scheduler posted it
        inject = db.session.get(DrillInject, inject_id)
        db.session.refresh(inject)
        _post(inject, now)
        posted += 1
    return posted


def _post(inject: DrillInject, now: datetime) -> None:
    incident = inject.run.incident
    record(
        incident_id=incident.id, kind="drill.inject", actor_label="drill", at=now,
        summary=f"{DRILL_MARK} {inject.title}" + (f": {inject.body}" if inject.body else ""),
        data={"inject": inject.key, "due_at": inject.due_at.isoformat(), "roles": _roles(inject)},
    )
    recipients = participants_to_tell(incident=incident, roles=_roles(inject))
    notify(
        recipients=recipients, incident=incident, dedup_key=f"drill-inject:{inject.id}",
        subject=f"{incident.ref}: {inject.title}",
        body=f"{DRILL_MARK} This is an exercise, not a real crisis.\n\n{inject.title}\n\n{inject.body}".strip(),
        link=f"/incidents/{incident.ref}",
    )


def _roles(inject: DrillInject) -> list[str]:
    return [r for r in inject.roles.split(",") if r]


def participants_to_tell(*, incident: Incident, roles: list[str]) -> list[Person]:
    """The triage owner and step owners of the drill, plus the holders of the roles an inject names."""
    people: dict[int, Person] = {}
    for person in [incident.triage_owner, *(s.owner for s in incident.steps if s.applicability != "excluded")]:
        if person is not None and person.active:
            people.setdefault(person.id, person)
    for role in roles:
        for person in role_holders(role):
            people.setdefault(person.id, person)
    return sorted(people.values(), key=lambda p: p.name)


def end_drill(*, incident: Incident, actor: Person) -> DrillRun:
    """End a drill now: unposted injects are dropped, escalation stops, practice is recorded."""
    run = run_of(incident)
    if run.ended_at is not None:
        raise Conflict(f"The drill {incident.ref} already ended", field="drill")
    if not can_end_drill(actor, incident):
        raise Forbidden("Only the triage owner, the declarer, a lead or an admin may end a drill", field="actor")
    now = clock.now()
    unposted = [i.key for i in run.injects if i.posted_at is None]
    if incident.status in OPEN:
        change_incident(incident=incident, actor=actor, status=IncidentStatus.RESOLVED.value,
                        force_reason="the drill ended")
    claimed = db.session.execute(
        update(DrillRun).where(DrillRun.id == run.id, DrillRun.ended_at.is_(None))
        .values(ended_at=now, ended_early=bool(unposted)).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"The drill {incident.ref} already ended", field="drill")
    db.session.refresh(run)
    early = f"; {len(unposted)} inject(s) never posted" if unposted else ""
    record(
        incident_id=incident.id, kind="drill.ended", actor=actor, at=now,
        summary=f"{actor.name} ended the drill{early}", data={"early": bool(unposted), "unposted": unposted},
    )
    record_practice(run=run, on=now)
    return run


def run_of(incident: Incident) -> DrillRun:
    """Return the drill run of an incident, or raise NotFound when it is no drill."""
    run = db.session.scalar(select(DrillRun).where(DrillRun.incident_id == incident.id))
    if run is None:
        raise NotFound(f"{incident.ref} is not a drill", field="ref")
    return run


def list_runs(*, scenario_key: str | None = None) -> list[DrillRun]:
    """Return drill runs, newest first (of one scenario if given)."""
    query = select(DrillRun).order_by(DrillRun.started_at.desc(), DrillRun.id.desc())
    if scenario_key is not None:
        query = query.where(DrillRun.scenario_key == scenario_key)
    return list(db.session.scalars(query))
