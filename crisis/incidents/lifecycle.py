"""Changing an incident: triage owner, severity, status, triage answers and notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from crisis import clock
from crisis.enums import (
    IncidentStatus,
)
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.escalation.policy import after_acknowledge, escalation_time, first_escalation_at
from crisis.extensions import db
from crisis.incidents.activation import activate_ready, event_names, reevaluate, switch_phrase
from crisis.incidents.changes import (
    RUNNING,
    STATUSES,
    TRANSITIONS,
    UNFINISHED,
    claim_step,
    iso,
    lock_incident,
)
from crisis.incidents.checks import (
    MAX_NOTE,
    MAX_REASON,
    check_answers,
    check_severity,
    named_person,
)
from crisis.incidents.models import Incident, IncidentStep
from crisis.incidents.queries import playbook_of
from crisis.notifications.reminders import reminder_at
from crisis.people.models import Person
from crisis.permissions import can_manage_incident
from crisis.playbooks.definition import Playbook
from crisis.reviews.service import highest_severity, review_required_to_close
from crisis.timeline import service as timeline
from crisis.timeline.display import triage_phrase
from crisis.timeline.models import TimelineEvent


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
    new_severity = check_severity(severity) if severity is not None else None
    new_status = (status or "").strip().lower() if status is not None else None
    if new_status is not None and new_status not in STATUSES:
        raise InvalidInput("Choose a status from the list: " + ", ".join(STATUSES) + ".", field="status")
    new_owner = named_person(triage_owner_email, field="triage_owner") if triage_owner_email is not None else None
    force_reason = (force_reason or "").strip() or None
    if force_reason is not None and len(force_reason) > MAX_REASON:
        raise InvalidInput(f"The reason can be at most {MAX_REASON} characters.", field="force_reason")
    if not can_manage_incident(actor, incident):
        raise Forbidden("Only the triage owner, the declarer, a triage or comms lead, or an admin may change an incident.")
    lock_incident(incident)
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
    on, off = reevaluate(incident, playbook)
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
            rescheduled.append({"step": step.key, "before": iso(step.due_at), "after": due_at.isoformat()})
            claim_step(step, from_statuses=RUNNING, values=values, refusal=f"“{step.title}” finished meanwhile.")
    timeline.record(
        incident_id=incident.id, kind="incident.severity_changed", actor=actor,
        summary=f"{actor.name} changed severity {before} → {severity}" + switch_phrase(incident, playbook, on, off),
        data={"before": before, "after": severity, "rescheduled": rescheduled, "steps_on": on, "steps_off": off},
    )
    activate_ready(incident, playbook, actor=actor)


def _change_status(incident: Incident, playbook: Playbook, actor: Person, status: str, force_reason: str | None) -> None:
    before = incident.status
    if status not in TRANSITIONS[before]:
        allowed = " or ".join(TRANSITIONS[before])
        then = f"from {before} it can go to {allowed}" if allowed else "closed is final"
        raise Conflict(f"{incident.ref} cannot go from {before} to {status}: {then}.", field="status")
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
                f"{incident.ref} has been {highest_severity(incident)}: write the post-incident review before closing it.",
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
                claim_step(step, from_statuses=RUNNING, values={"next_escalation_at": next_at},
                       refusal=f"“{step.title}” finished meanwhile.")
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
        activate_ready(incident, playbook, actor=actor)


def record_triage_answers(*, incident: Incident, actor: Person, answers: Mapping[str, str]) -> Incident:
    """Record answers to the playbook's triage questions, switching conditional steps on or off."""
    playbook = playbook_of(incident)
    if not answers:
        raise InvalidInput("Answer at least one triage question.", field="answers")
    clean = check_answers(playbook, answers)
    if not can_manage_incident(actor, incident):
        raise Forbidden("Only the triage owner, the declarer, a triage or comms lead, or an admin may answer triage.")
    lock_incident(incident)
    current = dict(incident.triage_answers or {})
    changed = {k: v for k, v in clean.items() if current.get(k) != v}
    if not changed:
        raise Conflict("Those answers are already recorded: change one to update the plan.", field="answers")
    before = {k: current.get(k) for k in changed}
    incident.triage_answers = current | changed
    on, off = reevaluate(incident, playbook)
    timeline.record(
        incident_id=incident.id, kind="incident.triage_answered", actor=actor,
        summary=f"{actor.name} answered triage: "
        + triage_phrase(changed, event_names(incident, playbook)) + switch_phrase(incident, playbook, on, off),
        data={"before": before, "after": changed, "steps_on": on, "steps_off": off},
    )
    activate_ready(incident, playbook, actor=actor)
    return incident


def add_note(*, incident: Incident, actor: Person, text: str) -> TimelineEvent:
    """Add a free-text note to the timeline."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Write the note first.", field="text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"A note can be at most {MAX_NOTE} characters.", field="text")
    if incident.status == IncidentStatus.CLOSED.value:
        raise Conflict(f"{incident.ref} is closed: nothing more can be added.", field="status")
    summary = text if len(text) <= 500 else text[:497] + "…"
    return timeline.record(
        incident_id=incident.id, kind="incident.note", actor=actor,
        summary=f"{actor.name}: {summary}", data={"text": text},
    )
