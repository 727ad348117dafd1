"""Dry-run a playbook: when each step would be due and when each escalation level would fire.

Assumptions (the simulation answers "what is the latest this plan allows?"):

- every step is finished exactly at its due time, so a step becomes active when the last of
  its `after` steps is due (or at declaration when it has no `after`);
- a step that does not apply (its `when` is false) is skipped the moment it would become
  active, and a skipped step counts as finished for the steps after it;
- a step whose `when` waits on an unanswered triage question is treated the same way: it is
  left out and does not hold up its dependents;
- escalation level n fires at due + level n's `after`; when the policy repeats, the last
  level fires again every `repeat_every` (up to two repeats are shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crisis.playbooks.definition import SEVERITIES, Playbook

SHOWN_REPEATS = 2


@dataclass
class SimulatedEscalation:
    level: int
    at: datetime
    notify: tuple[str, ...]
    channels: tuple[str, ...]
    repeat: bool = False  # a repeat of the last level (levels past the policy's last)


@dataclass
class SimulatedStep:
    key: str
    title: str
    role: str
    active_at: datetime
    due_at: datetime
    escalations: list[SimulatedEscalation] = field(default_factory=list)


def simulate(
    playbook: Playbook, *, severity: str, answers: Mapping[str, str], declared_at: datetime
) -> list[SimulatedStep]:
    """Return the schedule of every applicable step, in dependency order."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r} (use {', '.join(SEVERITIES)})")
    for key, value in answers.items():
        try:
            question = playbook.question(key)
        except KeyError:
            known = ", ".join(q.key for q in playbook.questions) or "none"
            raise ValueError(f"unknown question {key!r} (questions: {known})") from None
        if value not in question.choices:
            raise ValueError(
                f"{value!r} is not a choice of question {key!r} ({', '.join(question.choices)})"
            )

    finished_at: dict[str, datetime] = {}
    schedule: list[SimulatedStep] = []
    for step in playbook.ordered_steps():
        active_at = max(
            (finished_at[name] for name in step.after if name in finished_at),
            default=declared_at,
        )
        if step.applies(severity, answers) is not True:
            finished_at[step.key] = active_at  # skipped: finished as soon as it would start
            continue
        due_at = active_at + step.due_for(severity)
        finished_at[step.key] = due_at
        escalations = [
            SimulatedEscalation(
                level=number,
                at=due_at + offset,
                notify=level.notify,
                channels=level.channels,
                repeat=repeat,
            )
            for number, offset, level, repeat in playbook.escalation.fire_offsets(SHOWN_REPEATS)
        ]
        schedule.append(
            SimulatedStep(
                key=step.key,
                title=step.title,
                role=step.role,
                active_at=active_at,
                due_at=due_at,
                escalations=escalations,
            )
        )
    return schedule
