"""When each escalation level of a step fires, from its playbook's escalation policy.

Level n (1-based) fires at `due_at + levels[n-1].after`. Past the last level, with
`repeat_every` set, level len(levels)+k repeats the last level at `last.after + k * repeat_every`.
Acknowledging a step pushes its next level back to at least `now + acknowledge_snooze`;
completing or skipping it clears `next_escalation_at`, which stops all escalation.
"""

from __future__ import annotations

from datetime import datetime

from crisis.playbooks.definition import EscalationLevel, EscalationPolicy


def level_for(policy: EscalationPolicy, level: int) -> EscalationLevel | None:
    """Return the policy level that escalation number `level` uses (repeats use the last)."""
    if level < 1 or not policy.levels:
        return None
    if level <= len(policy.levels):
        return policy.levels[level - 1]
    return policy.levels[-1] if policy.repeat_every is not None else None


def escalation_time(policy: EscalationPolicy, due_at: datetime, level: int) -> datetime | None:
    """Return when escalation number `level` fires for a step due at `due_at`, or None if never."""
    if level < 1 or not policy.levels:
        return None
    if level <= len(policy.levels):
        return due_at + policy.levels[level - 1].after
    if policy.repeat_every is None:
        return None
    repeats = level - len(policy.levels)
    return due_at + policy.levels[-1].after + repeats * policy.repeat_every


def first_escalation_at(policy: EscalationPolicy, due_at: datetime) -> datetime | None:
    return escalation_time(policy, due_at, 1)


def after_acknowledge(policy: EscalationPolicy, next_at: datetime | None, now: datetime) -> datetime | None:
    """Return the next escalation time once a step is acknowledged (snoozed, never earlier)."""
    if next_at is None:
        return None
    return max(next_at, now + policy.acknowledge_snooze)
