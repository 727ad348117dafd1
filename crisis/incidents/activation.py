"""When steps start: a step starts once every step it is `after` is finished, and a change of
severity or triage answers switches conditional steps on or off."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update

from crisis import clock
from crisis.enums import (
    APPLICABILITY,
    IncidentStatus,
    StepStatus,
)
from crisis.escalation.policy import first_escalation_at
from crisis.extensions import db
from crisis.incidents.changes import FINISHED, claim_step
from crisis.incidents.models import Incident, IncidentStep
from crisis.incidents.queries import playbook_of
from crisis.notifications import triggers
from crisis.notifications.reminders import reminder_at
from crisis.people.models import Person
from crisis.people.service import PersonRef
from crisis.playbooks.definition import Playbook, StepDef
from crisis.timeline import service as timeline
from crisis.timeline.display import EventNames
from crisis.timeline.display import switch_phrase as names_switch_phrase


def activation_event(
    key: str, title: str, owner: Person | PersonRef | None, due_at: datetime
) -> tuple[str, str, dict]:
    """Return the (kind, summary, data) of a step.activated event."""
    return (
        "step.activated",
        f"“{title}” started; due {due_at.strftime('%H:%M UTC')}"
        + (f", owner {owner.name}" if owner is not None else ", no owner"),
        {"step": key, "due_at": due_at.isoformat(), "owner": owner.email if owner else None},
    )


def record_activation(
    incident: Incident, key: str, title: str, owner: Person | None, due_at: datetime, *,
    actor: Person | None, actor_label: str = "", at: datetime,
) -> None:
    kind, summary, data = activation_event(key, title, owner, due_at)
    timeline.record(
        incident_id=incident.id, kind=kind, actor=actor, actor_label=actor_label, at=at, summary=summary, data=data
    )


def waiting_phrase(incident: Incident, step: IncidentStep) -> str:
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


def activate_ready(incident: Incident, playbook: Playbook, *, actor: Person | None, actor_label: str = "") -> list[IncidentStep]:
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
        record_activation(incident, step.key, step.title, step.owner, due_at, actor=actor,
                           actor_label=actor_label, at=now)
    if not stop:
        triggers.steps_started(incident=incident, actor_id=actor.id if actor else None, steps=[
            triggers.StepWork(id=s.id, key=s.key, title=s.title, role=s.role, owner_id=s.owner_id, due_at=s.due_at)
            for s in started
        ])
    return started


def reevaluate(incident: Incident, playbook: Playbook) -> tuple[list[str], list[str]]:
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
        claim_step(step, from_statuses=(step.status,), values=values, refusal=f"“{step.title}” changed meanwhile.")
    return on, off


def event_names(incident: Incident, playbook: Playbook) -> EventNames:
    """What the incident's step and question keys read as on its timeline."""
    return EventNames(
        steps={s.key: s.title for s in incident.steps}, questions={q.key: q.prompt for q in playbook.questions}
    )


def switch_phrase(incident: Incident, playbook: Playbook, on: Sequence[str], off: Sequence[str]) -> str:
    return names_switch_phrase(on, off, event_names(incident, playbook))
