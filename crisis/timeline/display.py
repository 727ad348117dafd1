"""How a timeline event reads to a person: times taken from the event's data, in their zone.

A stored summary is written once, in no one's time zone; the API keeps it as written. Pages
render the times again from the event's data, so every line reads in the viewer's zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# "due 14:05 UTC" as step.activated summaries say it; the moment itself is data["due_at"].
_DUE_UTC = re.compile(r"\bdue (\d{2}:\d{2}) UTC\b")
_TRIAGE = " answered triage: "


@dataclass(frozen=True)
class EventNames:
    """What an incident's keys read as: step titles and triage questions (prompt and choices)."""

    steps: Mapping[str, str] = field(default_factory=dict)
    questions: Mapping[str, str] = field(default_factory=dict)

    def step(self, key: str) -> str:
        return f"“{self.steps.get(key, key.replace('-', ' '))}”"

    def question(self, key: str) -> str:
        return self.questions.get(key) or key.replace("_", " ").capitalize() + "?"


def switch_phrase(on: Sequence[str], off: Sequence[str], names: EventNames) -> str:
    """Say which steps a change started to need or no longer needs, by title."""
    parts = []
    if on:
        parts.append("now needed: " + ", ".join(names.step(key) for key in on))
    if off:
        parts.append("no longer needed: " + ", ".join(names.step(key) for key in off))
    return f" ({'; '.join(parts)})" if parts else ""


def triage_phrase(answers: Mapping[str, Any], names: EventNames) -> str:
    """Each answer as its question and the chosen answer: “Was data exposed?” yes."""
    return "; ".join(f"{names.question(key)} {str(value).replace('_', ' ')}" for key, value in answers.items())


def _keyed_switch_phrase(on: Sequence[str], off: Sequence[str]) -> str:
    """The ending summaries were once stored with: " (steps on: a, b; steps off: c)"."""
    parts = ([f"steps on: {', '.join(on)}"] if on else []) + ([f"steps off: {', '.join(off)}"] if off else [])
    return f" ({'; '.join(parts)})" if parts else ""


def _with_names(summary: str, kind: str, data: Mapping[str, Any], names: EventNames) -> str:
    """Rebuild the parts of a summary written with keys from the event's data."""
    on, off = list(data.get("steps_on") or []), list(data.get("steps_off") or [])
    switched = switch_phrase(on, off, names)
    if kind == "incident.triage_answered" and _TRIAGE in summary and isinstance(data.get("after"), dict):
        who = summary.split(_TRIAGE, 1)[0]
        return f"{who} answered triage: {triage_phrase(data['after'], names)}{switched}"
    for ending in (_keyed_switch_phrase(on, off), switched):
        if ending and summary.endswith(ending):
            return summary.removesuffix(ending) + switched
    return summary


def event_text(
    summary: str, data: dict[str, Any] | None, zone: ZoneInfo, *, kind: str = "", names: EventNames | None = None
) -> str:
    """Return an event's summary with keys named (when `names` is given) and its due time in `zone`."""
    if names is not None and data:
        summary = _with_names(summary, kind, data, names)
    if "UTC" not in summary or not data or not data.get("due_at"):
        return summary
    try:
        due = datetime.fromisoformat(str(data["due_at"]))
    except ValueError:
        return summary
    local = due.astimezone(zone)
    return _DUE_UTC.sub(f"due {local.hour:02d}:{local.minute:02d}", summary, count=1)
