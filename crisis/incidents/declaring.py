"""Declaring an incident: the rows of one declaration, its timeline events and who is told."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from crisis import clock
from crisis.enums import (
    APPLICABILITY,
    Applicability,
    IncidentStatus,
    Severity,
    StepStatus,
)
from crisis.errors import InvalidInput, NotFound
from crisis.escalation.policy import first_escalation_at
from crisis.extensions import db
from crisis.incidents.activation import activation_event
from crisis.incidents.checks import (
    MAX_SUMMARY,
    check_answers,
    check_links,
    check_severity,
    check_title,
    named_person,
)
from crisis.incidents.models import Incident, IncidentCounter, IncidentLink, IncidentStep
from crisis.incidents.queries import get_incident
from crisis.notifications import triggers
from crisis.notifications.reminders import reminder_at
from crisis.people.models import Person, RoleMembership
from crisis.people.service import PersonRef
from crisis.playbooks.definition import Playbook
from crisis.playbooks.service import VersionRef, current_definition, list_playbooks
from crisis.readiness.board import readiness_warning
from crisis.timeline import service as timeline


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
    title = check_title(title)
    severity = check_severity(severity) if severity else None
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"The summary can be at most {MAX_SUMMARY} characters.", field="summary")
    clean_links = check_links(links)
    version, playbook = _current_definition(playbook_key)
    severity = severity or playbook.default_severity
    answers = check_answers(playbook, triage_answers or {})
    named = named_person(triage_owner_email, field="triage_owner") if triage_owner_email else None
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
    # Steps with nothing to wait for start at once, exactly as activate_ready would start them.
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
            *(activation_event(step_def.key, step_def.title, owner, due_at) for step_def, owner, due_at in started),
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
        raise InvalidInput("Choose a playbook: it decides the steps, their owners and their deadlines.", field="playbook")
    try:
        return current_definition(key)
    except NotFound:
        hint = "the Playbooks page lists those there are" if list_playbooks() else "no playbooks are synced yet"
        raise InvalidInput(f"There is no playbook “{key}”: {hint}.", field="playbook") from None
