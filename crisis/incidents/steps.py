"""Step actions: acknowledge, complete, skip, block, unblock and hand over."""

from __future__ import annotations

from typing import Any

from crisis import clock
from crisis.enums import (
    IncidentStatus,
    StepStatus,
)
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.escalation.policy import after_acknowledge
from crisis.incidents.activation import activate_ready, waiting_phrase
from crisis.incidents.changes import FINISHED, RUNNING, UNFINISHED, claim_step, iso, lock_incident
from crisis.incidents.checks import MAX_NOTE, MAX_REASON, check_reason, named_person
from crisis.incidents.models import Incident, IncidentStep
from crisis.incidents.queries import playbook_of
from crisis.notifications import triggers
from crisis.people.models import Person
from crisis.permissions import can_act_on_step, can_skip_step, may_own_steps
from crisis.timeline import service as timeline


def acknowledge_step(*, incident: Incident, step_key: str, actor: Person) -> IncidentStep:
    """Acknowledge a running step: its owner has seen it; the next escalation is snoozed."""
    step = _step_for_action(incident, step_key, actor)
    if step.status not in RUNNING:
        raise Conflict(f"“{step.title}” is {step.status}: only a running step can be acknowledged.", field="step")
    if step.acknowledged_at is not None:
        raise Conflict(f"“{step.title}” is already acknowledged.", field="step")
    now = clock.now()
    policy = playbook_of(incident).escalation
    next_at = after_acknowledge(policy, step.next_escalation_at, now)
    claim_step(step, from_statuses=RUNNING, extra=[IncidentStep.acknowledged_at.is_(None)],
           values={"acknowledged_at": now, "next_escalation_at": next_at},
           refusal=f"“{step.title}” was acknowledged or finished meanwhile.")
    timeline.record(
        incident_id=incident.id, kind="step.acknowledged", actor=actor, at=now,
        summary=f"{actor.name} acknowledged “{step.title}”",
        data={"step": step.key, "next_escalation_at": iso(next_at)},
    )
    return step


def complete_step(
    *, incident: Incident, step_key: str, actor: Person, note: str = "", via: str | None = None
) -> IncidentStep:
    """Check a running step off with an optional note; the steps waiting on it may start."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note can be at most {MAX_NOTE} characters.", field="note")
    # A publication by an authorised spokesperson completes the publishing step whoever owns it:
    # the statements service has already checked that authority.
    step = _step_for_action(incident, step_key, actor, check_owner=via != "statement")
    if step.status in FINISHED:
        # Names, not emails, and no timestamp: the domain does not know the reader's time zone.
        who = f" by {step.completed_by.name}" if step.completed_by is not None else ""
        raise Conflict(f"“{step.title}” is already {step.status}{who}.", field="step")
    if step.status == StepStatus.PENDING.value:
        raise Conflict(f"“{step.title}” has not started yet: {waiting_phrase(incident, step)}", field="step")
    if via != "statement" and step.key in publishing_step_keys(incident):
        # Ticking it off would claim a statement went out when none did.
        raise Conflict(
            f"“{step.title}” is done when an approved statement is published. Draft one under Public "
            "statements, or skip the step with a reason.", field="step",
        )
    now = clock.now()
    claim_step(step, from_statuses=RUNNING,
           values={"status": StepStatus.DONE.value, "completed_at": now, "completed_by_id": actor.id,
                   "note": note, "next_escalation_at": None, "blocked_reason": ""},
           refusal=f"“{step.title}” is already finished.")
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
    activate_ready(incident, playbook_of(incident), actor=actor)
    return step


def publishing_step_keys(incident: Incident) -> set[str]:
    """Return the keys of the incident's steps that only publishing a statement completes."""
    return {step.key for step in playbook_of(incident).steps if step.publishes}


def skip_step(*, incident: Incident, step_key: str, actor: Person, reason: str) -> IncidentStep:
    """Skip a step with a reason (triage owner or leads only); the steps waiting on it may start."""
    reason = check_reason(reason)
    step = _find_step(incident, step_key)
    if not can_skip_step(actor, incident):
        raise Forbidden("Only the triage owner, a triage or comms lead, or an admin may skip a step.", field="step")
    lock_incident(incident)
    if step.status in FINISHED:
        raise Conflict(f"“{step.title}” is already {step.status}.", field="step")
    now = clock.now()
    claim_step(step, from_statuses=UNFINISHED,
           values={"status": StepStatus.SKIPPED.value, "completed_at": now, "completed_by_id": actor.id,
                   "note": reason, "next_escalation_at": None, "blocked_reason": ""},
           refusal=f"“{step.title}” is already finished.")
    timeline.record(
        incident_id=incident.id, kind="step.skipped", actor=actor, at=now,
        summary=f"{actor.name} skipped “{step.title}”: {reason}",
        data={"step": step.key, "reason": reason},
    )
    activate_ready(incident, playbook_of(incident), actor=actor)
    return step


def block_step(*, incident: Incident, step_key: str, actor: Person, reason: str) -> IncidentStep:
    """Mark an active step blocked, saying on what; its clock and escalation keep running."""
    reason = check_reason(reason)
    step = _step_for_action(incident, step_key, actor)
    if step.status != StepStatus.ACTIVE.value:
        raise Conflict(f"“{step.title}” is {step.status}: only an active step can be marked blocked.", field="step")
    claim_step(step, from_statuses=(StepStatus.ACTIVE.value,),
           values={"status": StepStatus.BLOCKED.value, "blocked_reason": reason},
           refusal=f"“{step.title}” changed meanwhile.")
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
        raise InvalidInput(f"The reason can be at most {MAX_REASON} characters.", field="reason")
    step = _step_for_action(incident, step_key, actor)
    if step.status != StepStatus.BLOCKED.value:
        raise Conflict(f"“{step.title}” is {step.status}, not blocked.", field="step")
    was = step.blocked_reason
    claim_step(step, from_statuses=(StepStatus.BLOCKED.value,),
           values={"status": StepStatus.ACTIVE.value, "blocked_reason": ""},
           refusal=f"“{step.title}” changed meanwhile.")
    timeline.record(
        incident_id=incident.id, kind="step.unblocked", actor=actor,
        summary=f"{actor.name} unblocked “{step.title}”" + (f": {reason}" if reason else ""),
        data={"step": step.key, "reason": reason, "was_blocked_by": was},
    )
    return step


def assign_step(*, incident: Incident, step_key: str, actor: Person, owner_email: str) -> IncidentStep:
    """Hand a step over to someone else; the new owner has to acknowledge it afresh."""
    new_owner = named_person(owner_email, field="owner")
    step = _step_for_action(incident, step_key, actor)
    if step.status in FINISHED:
        raise Conflict(f"“{step.title}” is already {step.status}.", field="step")
    if step.owner_id == new_owner.id:
        raise Conflict(f"“{step.title}” already belongs to {new_owner.name}.", field="owner")
    if not may_own_steps(new_owner):
        raise InvalidInput(
            f"{new_owner.name} cannot act on steps (they do not hold the respond permission): "
            "hand it to someone who does.", field="owner",
        )
    before = step.owner.email if step.owner is not None else None
    previous_owner_id = step.owner_id
    claim_step(step, from_statuses=UNFINISHED,
           values={"owner_id": new_owner.id, "acknowledged_at": None},
           refusal=f"“{step.title}” finished meanwhile.")
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
        raise NotFound(f"{incident.ref} has no such step.", field="step")
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
    lock_incident(incident)
    return step
