"""Incidents: declaring, step actions and lifecycle changes; each change writes one timeline event.

Rules this module keeps (the web, API and CLI only call these functions):

- Every playbook step becomes an IncidentStep row at declaration, in dependency order. A step
  whose `when` is false is skipped automatically (applicability "excluded") and counts as finished for
  the steps after it; a step whose `when` waits on an unanswered triage question stays pending
  ("undecided") and holds up its dependents until the question is answered.
- A step becomes active when every step it is `after` is done or skipped. Activation sets
  `due_at = activated_at + due_for(severity)` and the first escalation time from the policy.
- Changing the severity re-evaluates every `when`, and reschedules each active or blocked step:
  `due_at = activated_at + due_for(new severity)`; while no escalation level has fired yet its
  next escalation is recomputed from the new due time (an acknowledgement snooze still holds);
  once a level fired, the escalation path continues unchanged. Finished steps keep their history;
  pending steps get their due time when they activate.
- Step status changes are compare-and-set UPDATEs, so a racing second completion (or the
  escalation sweep) changes nothing and writes no event. Actions on one incident also take a
  row lock on the incident, so two steps finishing at once cannot both miss a dependent.
- Resolving with required steps still open needs a reason (`force_reason`); resolving or closing
  stops escalation of the open steps; reopening a resolved incident restarts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, lazyload, selectinload

from crisis import clock
from crisis.enums import (
    APPLICABILITY,
    FINISHED_STEP_STATUSES,
    OPEN_STATUSES,
    SEVERITIES,
    Applicability,
    IncidentStatus,
    Permission,
    Severity,
    StepStatus,
)
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.escalation.policy import after_acknowledge, escalation_time, first_escalation_at
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentCounter, IncidentLink, IncidentStep
from crisis.notifications import triggers
from crisis.notifications.reminders import reminder_at
from crisis.people.models import Person, RoleMembership
from crisis.people.service import PersonRef, find_person, role_primary
from crisis.permissions import is_lead
from crisis.playbooks.definition import Playbook, StepDef
from crisis.playbooks.service import VersionRef, current_definition, definition_of, list_playbooks
from crisis.reviews.service import highest_severity, review_required_to_close
from crisis.timeline import service as timeline
from crisis.timeline.models import TimelineEvent

MAX_TITLE = 200
MAX_SUMMARY = 10_000
MAX_NOTE = 10_000
MAX_REASON = 2_000
MAX_PLATFORM = 50
MAX_URL = 2_000
MAX_LINKS = 20
STATUSES = tuple(s.value for s in IncidentStatus)
UNFINISHED = (StepStatus.PENDING.value, StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
RUNNING = (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value)
FINISHED = tuple(s.value for s in FINISHED_STEP_STATUSES)

# Where each status may go next. Forward moves may skip stages; a resolved incident may be
# reopened; closed is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "declared": ("triage", "responding", "monitoring", "resolved"),
    "triage": ("responding", "monitoring", "resolved"),
    "responding": ("monitoring", "resolved"),
    "monitoring": ("responding", "resolved"),
    "resolved": ("closed", "responding", "monitoring"),
    "closed": (),
}


# --- reading ---------------------------------------------------------------------------------

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
        raise NotFound(f"no incident {ref!r}", field="ref")
    return incident


def playbook_of(incident: Incident) -> Playbook:
    """Return the playbook definition the incident was opened with (its pinned version)."""
    return definition_of(incident.playbook_version)


def list_incidents(
    *, status: str = "open", severity: str | None = None, owner: Person | None = None, limit: int = 500,
    offset: int = 0,
) -> list[Incident]:
    """Return incidents, newest first: status open|closed|all or one status; optionally mine."""
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
        raise InvalidInput(f"status must be open, closed, all or one of {', '.join(STATUSES)}", field="status")
    if severity:
        query = query.where(Incident.severity == _check_severity(severity))
    if owner is not None:
        owns_step = select(IncidentStep.incident_id).where(IncidentStep.owner_id == owner.id)
        query = query.where((Incident.triage_owner_id == owner.id) | Incident.id.in_(owns_step))
    query = query.order_by(Incident.declared_at.desc(), Incident.id.desc()).offset(offset).limit(limit)
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


def handover_candidates(steps: Sequence[IncidentStep]) -> dict[str, list[tuple[Person, list[str]]]]:
    """Return, per step key, who may take it over (holds respond), its role's holders first, with their roles."""
    people = [p for p in assignable_people() if p.can(Permission.RESPOND)]
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


def events_of(incident: Incident, *, limit: int | None = None, offset: int = 0) -> list[TimelineEvent]:
    """Return the incident's timeline (or a page of it), oldest first."""
    return timeline.events_for(incident.id, limit=limit, offset=offset)


def recent_events(incident: Incident, *, limit: int = 15) -> list[TimelineEvent]:
    """Return the newest events of an incident, newest first."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident.id)
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- who may do what --------------------------------------------------------------------------

def can_manage_incident(person: Person, incident: Incident) -> bool:
    """Return whether a person may change severity, status, triage owner and triage answers."""
    return is_lead(person, incident) or (incident.declared_by_id is not None and incident.declared_by_id == person.id)


def can_act_on_step(person: Person, incident: Incident, step: IncidentStep) -> bool:
    """Return whether a person may act on a step: its owner, the triage owner, admin, or a lead."""
    return (step.owner_id is not None and step.owner_id == person.id) or is_lead(person, incident)


# --- declaring --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkInput:
    platform: str
    url: str


def declare_incident(
    *,
    playbook_key: str,
    title: str,
    severity: str | None,
    declared_by: Person | PersonRef | None,
    summary: str = "",
    triage_owner_email: str | None = None,
    links: Sequence[tuple[str, str]] = (),
    is_drill: bool = False,
    actor_label: str = "",
    triage_answers: Mapping[str, str] | None = None,
) -> Declared:
    """Open an incident from the current version of a playbook and start its first steps.

    With no severity, the playbook's default severity is used.
    """
    title = _check_title(title)
    severity = _check_severity(severity) if severity else None
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"summary must be at most {MAX_SUMMARY} characters", field="summary")
    clean_links = _check_links(links)
    version, playbook = _current_definition(playbook_key)
    severity = severity or playbook.default_severity
    answers = _check_answers(playbook, triage_answers or {})
    named = _named_person(triage_owner_email, field="triage_owner") if triage_owner_email else None
    ordered = playbook.ordered_steps()
    primaries = _role_primaries({playbook.triage_role, *(step.role for step in ordered)})

    warnings: list[str] = []
    if named is not None:
        triage_owner, source = named, "named"
    elif (primary := primaries.get(playbook.triage_role)) is not None:
        triage_owner, source = primary, "roster"
    elif declared_by is not None:
        triage_owner, source = declared_by, "declarer"
        warnings.append(
            f"Nobody is on the {playbook.triage_role} roster, so {declared_by.name} (who declared it) "
            "is the triage owner."
        )
    else:
        triage_owner, source = None, "none"
        warnings.append(f"Nobody is on the {playbook.triage_role} roster and nobody declared it: no triage owner.")

    now = clock.now()
    values = {
        "ref": _next_ref(now.year), "title": title, "summary": summary, "severity": severity,
        "status": IncidentStatus.DECLARED.value, "playbook_version_id": version.id,
        "triage_owner_id": triage_owner.id if triage_owner is not None else None,
        "declared_by_id": declared_by.id if declared_by is not None else None,
        "declared_at": now, "resolved_at": None, "closed_at": None, "is_drill": is_drill,
        "triage_answers": dict(answers),
    }
    # Core INSERTs in the session's transaction (the steps as one executemany), rather than ORM
    # objects: declaring writes a dozen rows that nothing in this request changes again.
    incident_id = db.session.execute(insert(Incident).returning(Incident.id), values).scalar_one()
    if clean_links:
        db.session.execute(
            insert(IncidentLink),
            [{"incident_id": incident_id, "platform": link.platform, "url": link.url} for link in clean_links],
        )
    # Steps with nothing to wait for start at once, exactly as _activate_ready would start them.
    rows = []
    started = []
    for position, step_def in enumerate(ordered):
        applies = step_def.applies(severity, answers)
        owner = primaries.get(step_def.role)
        row = {
            "incident_id": incident_id, "key": step_def.key, "title": step_def.title, "role": step_def.role,
            "position": position, "owner_id": owner.id if owner is not None else None,
            "status": StepStatus.SKIPPED.value if applies is False else StepStatus.PENDING.value,
            "applicability": APPLICABILITY[applies], "note": "", "blocked_reason": "", "escalation_level": 0,
            "activated_at": None, "due_at": None, "next_escalation_at": None, "remind_at": None,
        }
        if applies is True and not step_def.after:
            due_at = now + step_def.due_for(severity)
            row |= {"status": StepStatus.ACTIVE.value, "activated_at": now, "due_at": due_at,
                    "next_escalation_at": first_escalation_at(playbook.escalation, due_at),
                    "remind_at": reminder_at(playbook.notifications, activated_at=now, due_at=due_at)}
            started.append((step_def, owner, due_at))
        rows.append(row)
    # The table's INSERT, not the ORM's bulk one: that splits rows by which values are None.
    db.session.execute(insert(IncidentStep.__table__), rows)

    unowned = sorted({r["role"] for r in rows if r["owner_id"] is None and r["applicability"] != Applicability.EXCLUDED})
    if unowned:
        warnings.append(f"Nobody is on the roster of {', '.join(unowned)}: assign those steps by hand.")
    if severity in (Severity.SEV1, Severity.SEV2) and not is_drill:
        from crisis.readiness.board import readiness_warning

        needed = {role for step_def, r in zip(ordered, rows, strict=True) if r["applicability"] != Applicability.EXCLUDED
                  for role in (step_def.role, *step_def.approval)}
        if unready := readiness_warning(roles=needed):
            warnings.append(unready)
    else:
        unready = None
    declared = {
        "severity": severity,
        "playbook": {"key": version.key, "version": version.version},
        "triage_owner": triage_owner.email if triage_owner else None,
        "triage_owner_source": source,
        "links": [{"platform": link.platform, "url": link.url} for link in clean_links],
        "is_drill": is_drill,
        "not_applicable": [r["key"] for r in rows if r["applicability"] == Applicability.EXCLUDED],
        "awaiting_triage": [r["key"] for r in rows if r["applicability"] == Applicability.UNDECIDED],
        "warnings": warnings,
    }
    if unready:
        declared["readiness_warning"] = unready  # kept on the incident (crisis.readiness.board)
    # The declaration and each started step's activation, in one INSERT.
    timeline.record_all(
        incident_id=incident_id,
        actor=declared_by,
        actor_label=actor_label,
        at=now,
        events=[
            (
                "incident.declared",
                f"{values['ref']} declared at {severity} from {playbook.title}: {title}" + (" (drill)" if is_drill else ""),
                declared,
            ),
            *(_activation_event(step_def.key, step_def.title, owner, due_at) for step_def, owner, due_at in started),
        ],
    )
    triggers.incident_declared(
        incident_id=incident_id, ref=values["ref"], title=title, severity=severity, is_drill=is_drill,
        playbook=playbook, triage_owner_id=values["triage_owner_id"],
        started=[triggers.StepWork(id=0, key=d.key, title=d.title, role=d.role, owner_id=o.id if o else None,
                                   due_at=due) for d, o, due in started],
    )
    return Declared(id=incident_id, ref=values["ref"], warnings=warnings)


@dataclass
class Declared:
    """What declaring wrote: the new incident's id and reference, and warnings for the declarer."""

    id: int
    ref: str
    warnings: list[str]  # shown once, to whoever declared

    @property
    def incident(self) -> Incident:
        """The incident with its steps, loaded on first use (for callers that act on it next)."""
        if not hasattr(self, "_incident"):
            self._incident = get_incident(self.ref)
        return self._incident


def _rosters_statement():
    memberships, people = RoleMembership.__table__, Person.__table__
    return (
        select(memberships.c.role, people.c.id, people.c.email, people.c.name)
        .join(people, people.c.id == memberships.c.person_id)
        .where(people.c.active.is_(True))
        .order_by(memberships.c.role, memberships.c.is_backup, memberships.c.rank, people.c.id)
    )


# Every roster at once: a few rows per role, fewer statements than asking for some roles.
_ROSTERS = _rosters_statement()


def _role_primaries(roles: set[str]) -> dict[str, PersonRef]:
    """Return who acts for each of these roles now (as people.service.role_primary), in one query."""
    primaries: dict[str, PersonRef] = {}
    for role, person_id, email, name in db.session.execute(_ROSTERS):
        if role in roles and role not in primaries:
            primaries[role] = PersonRef(id=person_id, email=email, name=name)
    return primaries


def _activation_event(
    key: str, title: str, owner: Person | PersonRef | None, due_at: datetime
) -> tuple[str, str, dict]:
    """Return the (kind, summary, data) of a step.activated event."""
    return (
        "step.activated",
        f"“{title}” started; due {due_at.strftime('%H:%M UTC')}"
        + (f", owner {owner.name}" if owner is not None else ", no owner"),
        {"step": key, "due_at": due_at.isoformat(), "owner": owner.email if owner else None},
    )


def _record_activation(
    incident: Incident, key: str, title: str, owner: Person | None, due_at: datetime, *,
    actor: Person | None, actor_label: str = "", at: datetime,
) -> None:
    kind, summary, data = _activation_event(key, title, owner, due_at)
    timeline.record(
        incident_id=incident.id, kind=kind, actor=actor, actor_label=actor_label, at=at, summary=summary, data=data
    )


def _next_ref(year: int) -> str:
    """Hand out the next INC-YYYY-NNNN with one atomic upsert ... RETURNING on the year's counter.

    The row lock taken by the update part makes concurrent declarations queue on PostgreSQL;
    SQLite transactions are serialised anyway. A rolled-back declaration gives its number back.
    """
    table = IncidentCounter.__table__
    insert_counter = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    number = db.session.execute(
        insert_counter(table)
        .values(year=year, last_number=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last_number": table.c.last_number + 1})
        .returning(table.c.last_number)
    ).scalar_one()
    return f"INC-{year}-{number:04d}"


def _current_definition(key: str) -> tuple[VersionRef, Playbook]:
    key = (key or "").strip()
    if not key:
        raise InvalidInput("playbook is required", field="playbook")
    try:
        return current_definition(key)
    except NotFound:
        known = sorted(v.key for v in list_playbooks())
        hint = f" (known: {', '.join(known)})" if known else " (no playbooks are synced yet)"
        raise InvalidInput(f"unknown playbook {key!r}{hint}", field="playbook") from None


def _check_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("Give the incident a title.", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title can be at most {MAX_TITLE} characters.", field="title")
    return title


def _check_severity(severity: str | None, field: str = "severity") -> str:
    value = (severity or "").strip().upper()
    if value not in SEVERITIES:
        raise InvalidInput(f"Choose a severity from {SEVERITIES[0]} to {SEVERITIES[-1]} (not “{severity}”).", field=field)
    return value


def check_link(platform: str, url: str, *, field: str = "links") -> LinkInput:
    """Return a cleaned source link, or raise InvalidInput when it is not an http(s) URL."""
    platform = " ".join((platform or "").split())
    url = (url or "").strip()
    if not platform:
        raise InvalidInput("Each link needs a platform (for example x, tiktok, reddit).", field=f"{field}.platform")
    if len(platform) > MAX_PLATFORM:
        raise InvalidInput(f"A platform name can be at most {MAX_PLATFORM} characters.", field=f"{field}.platform")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInput(f"The link “{url}” is not an http(s) URL.", field=f"{field}.url")
    if len(url) > MAX_URL:
        raise InvalidInput(f"A link can be at most {MAX_URL} characters.", field=f"{field}.url")
    return LinkInput(platform=platform, url=url)


def _check_links(links: Sequence[tuple[str, str]]) -> list[LinkInput]:
    if len(links) > MAX_LINKS:
        raise InvalidInput(f"Give at most {MAX_LINKS} links.", field="links")
    return [check_link(platform, url, field=f"links.{i}") for i, (platform, url) in enumerate(links)]


def _check_answers(playbook: Playbook, answers: Mapping[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in answers.items():
        try:
            question = playbook.question(key)
        except KeyError:
            known = ", ".join(q.key for q in playbook.questions) or "none"
            raise InvalidInput(f"unknown triage question {key!r} (questions: {known})", field=f"answers.{key}") from None
        value = (value or "").strip() if isinstance(value, str) else value
        if value not in question.choices:
            raise InvalidInput(
                f"{value!r} is not an answer to {key!r} (choices: {', '.join(question.choices)})",
                field=f"answers.{key}",
            )
        clean[key] = value
    return clean


def _named_person(email: str, *, field: str) -> Person:
    person = find_person(email or "")
    if person is None:
        raise InvalidInput(f"no person with email {email!r}", field=field)
    if not person.active:
        raise InvalidInput(f"{person.email} is disabled", field=field)
    return person


# --- step actions -----------------------------------------------------------------------------

def acknowledge_step(*, incident: Incident, step_key: str, actor: Person) -> IncidentStep:
    """Acknowledge a running step: its owner has seen it; the next escalation is snoozed."""
    step = _step_for_action(incident, step_key, actor)
    if step.status not in RUNNING:
        raise Conflict(f"step {step.key} is {step.status}; only an active or blocked step can be acknowledged", field="step")
    if step.acknowledged_at is not None:
        raise Conflict(f"step {step.key} was already acknowledged", field="step")
    now = clock.now()
    policy = playbook_of(incident).escalation
    next_at = after_acknowledge(policy, step.next_escalation_at, now)
    _claim(step, from_statuses=RUNNING, extra=[IncidentStep.acknowledged_at.is_(None)],
           values={"acknowledged_at": now, "next_escalation_at": next_at},
           refusal=f"step {step.key} was acknowledged or finished meanwhile")
    timeline.record(
        incident_id=incident.id, kind="step.acknowledged", actor=actor, at=now,
        summary=f"{actor.name} acknowledged “{step.title}”",
        data={"step": step.key, "next_escalation_at": _iso(next_at)},
    )
    return step


def complete_step(
    *, incident: Incident, step_key: str, actor: Person, note: str = "", via: str | None = None
) -> IncidentStep:
    """Check a running step off with an optional note; the steps waiting on it may start."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note must be at most {MAX_NOTE} characters", field="note")
    # A publication by an authorised spokesperson completes the publishing step whoever owns it:
    # the statements service has already checked that authority.
    step = _step_for_action(incident, step_key, actor, check_owner=via != "statement")
    if step.status in FINISHED:
        # Names, not emails, and no timestamp: the domain does not know the reader's time zone.
        who = f" by {step.completed_by.name}" if step.completed_by is not None else ""
        raise Conflict(f"“{step.title}” is already {step.status}{who}.", field="step")
    if step.status == StepStatus.PENDING.value:
        raise Conflict(f"“{step.title}” has not started yet: {_waiting_phrase(incident, step)}", field="step")
    if via != "statement" and step.key in publishing_step_keys(incident):
        # Ticking it off would claim a statement went out when none did.
        raise Conflict(
            f"“{step.title}” is done when an approved statement is published. Draft one under Public "
            "statements, or skip the step with a reason.", field="step",
        )
    now = clock.now()
    _claim(step, from_statuses=RUNNING,
           values={"status": StepStatus.DONE.value, "completed_at": now, "completed_by_id": actor.id,
                   "note": note, "next_escalation_at": None, "blocked_reason": ""},
           refusal=f"step {step.key} is already finished")
    data: dict[str, Any] = {"step": step.key, "note": note}
    if via:
        data["via"] = via
    overdue = step.due_at is not None and now > step.due_at
    timeline.record(
        incident_id=incident.id, kind="step.completed", actor=actor, at=now,
        summary=f"{actor.name} completed “{step.title}”" + (" (late)" if overdue else "")
        + (f": {note}" if note else ""),
        data=data | {"late": overdue},
    )
    _activate_ready(incident, playbook_of(incident), actor=actor)
    return step


def publishing_step_keys(incident: Incident) -> set[str]:
    """Return the keys of the incident's steps that only publishing a statement completes."""
    return {step.key for step in playbook_of(incident).steps if step.publishes}


def skip_step(*, incident: Incident, step_key: str, actor: Person, reason: str) -> IncidentStep:
    """Skip a step with a reason (triage owner or leads only); the steps waiting on it may start."""
    reason = _check_reason(reason)
    step = _find_step(incident, step_key)
    if not is_lead(actor, incident):
        raise Forbidden("only the triage owner, a triage or comms lead, or an admin may skip a step", field="step")
    _lock(incident)
    if step.status in FINISHED:
        raise Conflict(f"step {step.key} is already {step.status}", field="step")
    now = clock.now()
    _claim(step, from_statuses=UNFINISHED,
           values={"status": StepStatus.SKIPPED.value, "completed_at": now, "completed_by_id": actor.id,
                   "note": reason, "next_escalation_at": None, "blocked_reason": ""},
           refusal=f"step {step.key} is already finished")
    timeline.record(
        incident_id=incident.id, kind="step.skipped", actor=actor, at=now,
        summary=f"{actor.name} skipped “{step.title}”: {reason}",
        data={"step": step.key, "reason": reason},
    )
    _activate_ready(incident, playbook_of(incident), actor=actor)
    return step


def block_step(*, incident: Incident, step_key: str, actor: Person, reason: str) -> IncidentStep:
    """Mark an active step blocked, saying on what; its clock and escalation keep running."""
    reason = _check_reason(reason)
    step = _step_for_action(incident, step_key, actor)
    if step.status != StepStatus.ACTIVE.value:
        raise Conflict(f"step {step.key} is {step.status}; only an active step can be blocked", field="step")
    _claim(step, from_statuses=(StepStatus.ACTIVE.value,),
           values={"status": StepStatus.BLOCKED.value, "blocked_reason": reason},
           refusal=f"step {step.key} changed meanwhile")
    timeline.record(
        incident_id=incident.id, kind="step.blocked", actor=actor,
        summary=f"{actor.name} marked “{step.title}” blocked: {reason}",
        data={"step": step.key, "reason": reason},
    )
    return step


def unblock_step(*, incident: Incident, step_key: str, actor: Person, reason: str = "") -> IncidentStep:
    """Return a blocked step to active."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason must be at most {MAX_REASON} characters", field="reason")
    step = _step_for_action(incident, step_key, actor)
    if step.status != StepStatus.BLOCKED.value:
        raise Conflict(f"step {step.key} is {step.status}, not blocked", field="step")
    was = step.blocked_reason
    _claim(step, from_statuses=(StepStatus.BLOCKED.value,),
           values={"status": StepStatus.ACTIVE.value, "blocked_reason": ""},
           refusal=f"step {step.key} changed meanwhile")
    timeline.record(
        incident_id=incident.id, kind="step.unblocked", actor=actor,
        summary=f"{actor.name} unblocked “{step.title}”" + (f": {reason}" if reason else ""),
        data={"step": step.key, "reason": reason, "was_blocked_by": was},
    )
    return step


def assign_step(*, incident: Incident, step_key: str, actor: Person, owner_email: str) -> IncidentStep:
    """Hand a step over to someone else; the new owner has to acknowledge it afresh."""
    new_owner = _named_person(owner_email, field="owner")
    step = _step_for_action(incident, step_key, actor)
    if step.status in FINISHED:
        raise Conflict(f"step {step.key} is already {step.status}", field="step")
    if step.owner_id == new_owner.id:
        raise Conflict(f"“{step.title}” already belongs to {new_owner.name}.", field="owner")
    if not new_owner.active or not new_owner.can(Permission.RESPOND):
        raise InvalidInput(
            f"{new_owner.name} cannot act on steps (they do not hold the respond permission): "
            "hand it to someone who does.", field="owner",
        )
    before = step.owner.email if step.owner is not None else None
    previous_owner_id = step.owner_id
    _claim(step, from_statuses=UNFINISHED,
           values={"owner_id": new_owner.id, "acknowledged_at": None},
           refusal=f"step {step.key} finished meanwhile")
    now = clock.now()
    timeline.record(
        incident_id=incident.id, kind="step.assigned", actor=actor, at=now,
        summary=f"{actor.name} handed “{step.title}” to {new_owner.name}",
        data={"step": step.key, "before": before, "after": new_owner.email},
    )
    triggers.step_handed_over(
        incident=incident, previous_owner_id=previous_owner_id, actor_id=actor.id, at=now,
        step=triggers.StepWork(id=step.id, key=step.key, title=step.title, role=step.role, owner_id=new_owner.id,
                               due_at=step.due_at),
    )
    return step


def _find_step(incident: Incident, step_key: str) -> IncidentStep:
    step = incident.step(step_key)
    if step is None:
        known = ", ".join(s.key for s in incident.steps)
        raise NotFound(f"{incident.ref} has no step {step_key!r} (steps: {known})", field="step")
    return step


def _step_for_action(incident: Incident, step_key: str, actor: Person, *, check_owner: bool = True) -> IncidentStep:
    step = _find_step(incident, step_key)
    if check_owner and not can_act_on_step(actor, incident, step):
        owner = step.owner.name if step.owner is not None else "nobody"
        raise Forbidden(
            f"“{step.title}” belongs to {owner}: only its owner, the triage owner, a lead or an admin may act on it.",
            field="step",
        )
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"{incident.ref} is closed: its steps can no longer change.", field="status")
    _lock(incident)
    return step


def _lock(incident: Incident) -> None:
    """Serialise actions on one incident and reload its steps as committed.

    FOR NO KEY UPDATE (not FOR UPDATE) so timeline inserts by the sweep, whose foreign key
    takes a KEY SHARE lock on the incident, never wait on us. SQLite transactions are already
    serialised (BEGIN IMMEDIATE).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # key_share=True renders FOR NO KEY UPDATE; then reload what may have changed while we waited.
        db.session.execute(
            select(Incident)
            .where(Incident.id == incident.id)
            .with_for_update(key_share=True, of=Incident)
            .execution_options(populate_existing=True)
        ).all()
        db.session.execute(
            select(IncidentStep)
            .where(IncidentStep.incident_id == incident.id)
            .execution_options(populate_existing=True)
        ).unique().all()
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"{incident.ref} is closed", field="status")


def _claim(
    step: IncidentStep,
    *,
    from_statuses: Sequence[str],
    values: dict[str, Any],
    refusal: str,
    extra: Sequence[Any] = (),
) -> None:
    """Change a step only if it is still in one of `from_statuses` (compare-and-set), else 409."""
    result = db.session.execute(
        update(IncidentStep)
        .where(IncidentStep.id == step.id, IncidentStep.status.in_(from_statuses), *extra)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(step)
        raise Conflict(refusal, field="step")
    db.session.expire(step)
    db.session.refresh(step)


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a reason is required", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason must be at most {MAX_REASON} characters", field="reason")
    return reason


def _waiting_phrase(incident: Incident, step: IncidentStep) -> str:
    if step.applies is None:
        return "it waits on the answers to the triage questions."
    step_def = _step_def(incident, step)
    steps = [incident.step(key) for key in step_def.after]
    waiting = [f"“{s.title}”" for s in steps if s is not None and not _counts_finished(s)]
    return f"it waits for {', '.join(waiting)}." if waiting else "it is waiting."


def _step_def(incident: Incident, step: IncidentStep) -> StepDef:
    return playbook_of(incident).step(step.key)


def _counts_finished(step: IncidentStep) -> bool:
    return step.status in FINISHED


def _activate_ready(incident: Incident, playbook: Playbook, *, actor: Person | None, actor_label: str = "") -> list[IncidentStep]:
    """Start every pending, applicable step whose `after` steps are all done or skipped."""
    if incident.status == IncidentStatus.CLOSED.value:
        return []
    now = clock.now()
    by_key = {s.key: s for s in incident.steps}
    started: list[IncidentStep] = []
    stop = incident.status in (IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value)
    for step in sorted(incident.steps, key=lambda s: s.position):
        if step.status != StepStatus.PENDING.value or step.applies is not True:
            continue
        step_def = playbook.step(step.key)
        if not all(_counts_finished(by_key[k]) for k in step_def.after if k in by_key):
            continue
        due_at = now + step_def.due_for(incident.severity)
        next_at = None if stop else first_escalation_at(playbook.escalation, due_at)
        result = db.session.execute(
            update(IncidentStep)
            .where(IncidentStep.id == step.id, IncidentStep.status == StepStatus.PENDING.value)
            .values(status=StepStatus.ACTIVE.value, activated_at=now, due_at=due_at,
                    next_escalation_at=next_at, escalation_level=0,
                    remind_at=None if stop else reminder_at(playbook.notifications, activated_at=now, due_at=due_at))
            .execution_options(synchronize_session=False)
        )
        db.session.expire(step)
        if result.rowcount != 1:
            continue
        started.append(step)
        _record_activation(incident, step.key, step.title, step.owner, due_at, actor=actor,
                           actor_label=actor_label, at=now)
    if not stop:
        triggers.steps_started(incident=incident, actor_id=actor.id if actor else None, steps=[
            triggers.StepWork(id=s.id, key=s.key, title=s.title, role=s.role, owner_id=s.owner_id, due_at=s.due_at)
            for s in started
        ])
    return started


# --- incident changes -------------------------------------------------------------------------

def change_incident(
    *,
    incident: Incident,
    actor: Person,
    severity: str | None = None,
    status: str | None = None,
    triage_owner_email: str | None = None,
    force_reason: str | None = None,
) -> Incident:
    """Change the triage owner, severity and/or status; each change is one timeline event."""
    if severity is None and status is None and triage_owner_email is None:
        raise InvalidInput("Nothing to change: give a severity, a status or a triage owner.", field="body")
    new_severity = _check_severity(severity) if severity is not None else None
    new_status = (status or "").strip().lower() if status is not None else None
    if new_status is not None and new_status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}", field="status")
    new_owner = _named_person(triage_owner_email, field="triage_owner") if triage_owner_email is not None else None
    force_reason = (force_reason or "").strip() or None
    if force_reason is not None and len(force_reason) > MAX_REASON:
        raise InvalidInput(f"The reason can be at most {MAX_REASON} characters.", field="force_reason")
    if not can_manage_incident(actor, incident):
        raise Forbidden("only the triage owner, the declarer, a triage or comms lead, or an admin may change an incident")
    _lock(incident)
    playbook = playbook_of(incident)

    if new_owner is not None and new_owner.id != incident.triage_owner_id:
        before = incident.triage_owner.email if incident.triage_owner is not None else None
        incident.triage_owner = new_owner
        timeline.record(
            incident_id=incident.id, kind="incident.triage_owner_changed", actor=actor,
            summary=f"{actor.name} made {new_owner.name} triage owner",
            data={"before": before, "after": new_owner.email},
        )
    if new_severity is not None and new_severity != incident.severity:
        _change_severity(incident, playbook, actor, new_severity)
    if new_status is not None and new_status != incident.status:
        _change_status(incident, playbook, actor, new_status, force_reason)
    db.session.flush()
    return incident


def _change_severity(incident: Incident, playbook: Playbook, actor: Person, severity: str) -> None:
    before = incident.severity
    incident.severity = severity
    # Conditions first: a step the new severity switches off is skipped, not rescheduled.
    on, off = _reevaluate(incident, playbook)
    rescheduled = []
    for step in incident.steps:
        if step.status not in RUNNING or step.activated_at is None:
            continue
        due_at = step.activated_at + playbook.step(step.key).due_for(severity)
        values: dict[str, Any] = {"due_at": due_at}
        if step.remind_at is not None:
            values["remind_at"] = reminder_at(playbook.notifications, activated_at=step.activated_at, due_at=due_at)
        if step.escalation_level == 0 and step.next_escalation_at is not None:
            next_at = first_escalation_at(playbook.escalation, due_at)
            if step.acknowledged_at is not None:
                next_at = after_acknowledge(playbook.escalation, next_at, step.acknowledged_at)
            values["next_escalation_at"] = next_at
        if due_at != step.due_at:
            rescheduled.append({"step": step.key, "before": _iso(step.due_at), "after": due_at.isoformat()})
            _claim(step, from_statuses=RUNNING, values=values, refusal=f"step {step.key} finished meanwhile")
    timeline.record(
        incident_id=incident.id, kind="incident.severity_changed", actor=actor,
        summary=f"{actor.name} changed severity {before} → {severity}" + _switch_phrase(on, off),
        data={"before": before, "after": severity, "rescheduled": rescheduled, "steps_on": on, "steps_off": off},
    )
    _activate_ready(incident, playbook, actor=actor)


def _change_status(incident: Incident, playbook: Playbook, actor: Person, status: str, force_reason: str | None) -> None:
    before = incident.status
    if status not in TRANSITIONS[before]:
        allowed = ", ".join(TRANSITIONS[before]) or "nothing (closed is final)"
        raise Conflict(f"{incident.ref} cannot go from {before} to {status} (allowed: {allowed})", field="status")
    data: dict[str, Any] = {"before": before, "after": status}
    now = clock.now()
    if status == IncidentStatus.RESOLVED.value:
        open_required = [
            s.key for s in incident.steps
            if s.status in UNFINISHED and s.applies is True and playbook.step(s.key).required
        ]
        if open_required and force_reason is None:
            titles = ", ".join(f"“{s.title}”" for s in incident.steps if s.key in open_required)
            count = f"{len(open_required)} required step" + (" is" if len(open_required) == 1 else "s are")
            raise Conflict(
                f"{count} still open ({titles}). Finish or skip them first, or give a reason to resolve anyway.",
                field="status",
            )
        if open_required:
            data["forced"] = {"reason": force_reason, "open_steps": open_required}
        incident.resolved_at = now
    if status == IncidentStatus.CLOSED.value:

        if review_required_to_close(incident):
            raise Conflict(
                f"{incident.ref} has been {highest_severity(incident)}: write the post-incident review before closing it",
                field="status",
            )
        incident.closed_at = now
    if status in (IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value):
        # A resolved incident pages nobody about the steps left open.
        stopped = [s.key for s in incident.steps if s.status in RUNNING and s.next_escalation_at is not None]
        if stopped:
            db.session.execute(
                update(IncidentStep)
                .where(IncidentStep.incident_id == incident.id, IncidentStep.status.in_(RUNNING))
                .values(next_escalation_at=None)
                .execution_options(synchronize_session=False)
            )
            for step in incident.steps:
                db.session.expire(step)
            data["escalation_stopped"] = stopped
    elif before == IncidentStatus.RESOLVED.value:
        incident.resolved_at = None
        restarted = []
        for step in incident.steps:
            if step.status in RUNNING and step.due_at is not None:
                next_at = escalation_time(playbook.escalation, step.due_at, step.escalation_level + 1)
                _claim(step, from_statuses=RUNNING, values={"next_escalation_at": next_at},
                       refusal=f"step {step.key} finished meanwhile")
                restarted.append(step.key)
        data["reopened"] = True
        data["escalation_restarted"] = restarted
    incident.status = status
    reason = f" (forced: {force_reason})" if "forced" in data else ""
    timeline.record(
        incident_id=incident.id, kind="incident.status_changed", actor=actor, at=now,
        summary=f"{actor.name} changed status {before} → {status}{reason}",
        data=data,
    )
    if before == IncidentStatus.RESOLVED.value:
        _activate_ready(incident, playbook, actor=actor)


def record_triage_answers(*, incident: Incident, actor: Person, answers: Mapping[str, str]) -> Incident:
    """Record answers to the playbook's triage questions, switching conditional steps on or off."""
    playbook = playbook_of(incident)
    if not answers:
        raise InvalidInput("no answers given", field="answers")
    clean = _check_answers(playbook, answers)
    if not can_manage_incident(actor, incident):
        raise Forbidden("only the triage owner, the declarer, a triage or comms lead, or an admin may answer triage")
    _lock(incident)
    current = dict(incident.triage_answers or {})
    changed = {k: v for k, v in clean.items() if current.get(k) != v}
    if not changed:
        raise Conflict("those answers are already recorded", field="answers")
    before = {k: current.get(k) for k in changed}
    incident.triage_answers = current | changed
    on, off = _reevaluate(incident, playbook)
    timeline.record(
        incident_id=incident.id, kind="incident.triage_answered", actor=actor,
        summary=f"{actor.name} answered triage: "
        + ", ".join(f"{k} = {v}" for k, v in changed.items()) + _switch_phrase(on, off),
        data={"before": before, "after": changed, "steps_on": on, "steps_off": off},
    )
    _activate_ready(incident, playbook, actor=actor)
    return incident


def _reevaluate(incident: Incident, playbook: Playbook) -> tuple[list[str], list[str]]:
    """Apply the steps' `when` to the current severity and answers; return (switched on, off)."""
    on: list[str] = []
    off: list[str] = []
    answers = incident.triage_answers or {}
    for step in incident.steps:
        now_applies = playbook.step(step.key).applies(incident.severity, answers)
        if step.status == StepStatus.DONE.value or now_applies == step.applies:
            continue
        if step.status == StepStatus.SKIPPED.value and step.applies is not False:
            continue  # skipped by a person: that decision stands
        if now_applies is False:
            values = {"status": StepStatus.SKIPPED.value, "applicability": APPLICABILITY[False],
                      "next_escalation_at": None}
            off.append(step.key)
        else:
            values = {"applicability": APPLICABILITY[now_applies]}
            if step.applies is False:
                values |= {"status": StepStatus.PENDING.value, "activated_at": None, "due_at": None,
                           "acknowledged_at": None, "escalation_level": 0}
            if now_applies is True:
                on.append(step.key)
        _claim(step, from_statuses=(step.status,), values=values, refusal=f"step {step.key} changed meanwhile")
    return on, off


def _switch_phrase(on: Sequence[str], off: Sequence[str]) -> str:
    parts = []
    if on:
        parts.append(f"steps on: {', '.join(on)}")
    if off:
        parts.append(f"steps off: {', '.join(off)}")
    return f" ({'; '.join(parts)})" if parts else ""


def add_note(*, incident: Incident, actor: Person, text: str) -> TimelineEvent:
    """Add a free-text note to the timeline."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a note must not be empty", field="text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note must be at most {MAX_NOTE} characters", field="text")
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"{incident.ref} is closed", field="status")
    summary = text if len(text) <= 500 else text[:497] + "…"
    return timeline.record(
        incident_id=incident.id, kind="incident.note", actor=actor,
        summary=f"{actor.name}: {summary}", data={"text": text},
    )


# --- shapes -----------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
    from crisis.readiness.board import declared_readiness_warning

    if unready := declared_readiness_warning(incident_id=incident.id):
        warnings.append(unready)
    return warnings
