"""A parsed playbook: immutable value objects the incident engine and the UI read.

Nothing here reads files or validates input; `crisis.playbooks.validation` builds these
from YAML and guarantees the invariants (known roles, acyclic `after`, ...).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crisis.enums import SEVERITIES  # noqa: F401  (re-exported: playbook modules import it from here)

# Who an escalation level notifies; "role:<role>" names the primary of that response role.
TRIGGER_TARGETS = frozenset({"owner", "triage_owner", "role_lead", "exec_sponsor"})
ROLE_TARGET_PREFIX = "role:"
CHANNELS = frozenset({"email", "webhook", "in_app"})

# Placeholders a statement template may use; the incident fills them in when drafting.
TEMPLATE_FIELDS: frozenset[str] = frozenset(
    {
        "incident_ref",
        "incident_title",
        "summary",
        "severity",
        "platform",
        "link",
        "company",
        "declared_at",
        "triage_owner",
        "spokesperson",
    }
)

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping, so frozen dataclasses stay hashable."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def placeholders(template: str) -> list[str]:
    """Return the placeholder names a template uses, in order of appearance."""
    return PLACEHOLDER.findall(template)


def fold_lines(text: str) -> str:
    """Join the lines of each paragraph with spaces, as YAML's folded style would; keep blank-line breaks.

    Playbook authors wrap templates to fit the file, and a post must not carry those breaks.
    """
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in paragraphs)


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill {placeholders}; a missing or empty value stays visible as "[field]"."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or str(value) == "":
            return f"[{name}]"
        return str(value)

    return PLACEHOLDER.sub(fill, template)


@dataclass(frozen=True)
class TriageQuestion:
    key: str
    prompt: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """When a step applies: the severity is one of `severities` and every answer matches."""

    severities: tuple[str, ...] = ()
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        if not isinstance(self.answers, FrozenMap):
            object.__setattr__(
                self, "answers", FrozenMap({k: tuple(v) for k, v in self.answers.items()})
            )

    def evaluate(self, severity: str, answers: Mapping[str, str]) -> bool | None:
        """Return True/False, or None while a question this depends on is unanswered."""
        if self.severities and severity not in self.severities:
            return False
        pending = False
        for question, accepted in self.answers.items():
            given = answers.get(question)
            if given is None or given == "":
                pending = True
            elif given not in accepted:
                return False
        return None if pending else True


@dataclass(frozen=True)
class EscalationLevel:
    after: timedelta
    notify: tuple[str, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True)
class EscalationPolicy:
    levels: tuple[EscalationLevel, ...]
    repeat_every: timedelta | None = None
    acknowledge_snooze: timedelta = timedelta(minutes=15)

    def fire_offsets(self, repeats: int = 2) -> list[tuple[int, timedelta, EscalationLevel, bool]]:
        """Return (level number, offset after due, level, is_repeat) for each level and repeats."""
        result = [(n, level.after, level, False) for n, level in enumerate(self.levels, 1)]
        if self.repeat_every is not None and self.levels:
            last = self.levels[-1]
            for k in range(1, repeats + 1):
                result.append(
                    (len(self.levels) + k, last.after + k * self.repeat_every, last, True)
                )
        return result


# Severities at which declaring also tells the executive sponsor, unless a playbook says otherwise.
SPONSOR_SEVERITIES: tuple[str, ...] = ("SEV1", "SEV2")
# How long before a step falls due its owner is reminded, unless a playbook says otherwise.
DEFAULT_REMIND_BEFORE = timedelta(minutes=5)


@dataclass(frozen=True)
class NotifySettings:
    """A playbook's `notifications` block: who hears of a declaration, when owners are reminded."""

    # None: no reminders for this playbook's steps.
    remind_before: timedelta | None = DEFAULT_REMIND_BEFORE
    sponsor_on_declare: tuple[str, ...] = SPONSOR_SEVERITIES

    def to_dict(self) -> dict[str, Any]:
        return {
            "remind_before": None if self.remind_before is None else _seconds(self.remind_before),
            "sponsor_on_declare": list(self.sponsor_on_declare),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> NotifySettings:
        # Versions stored before the block existed get the defaults.
        if data is None:
            return cls()
        remind = data.get("remind_before", _seconds(DEFAULT_REMIND_BEFORE))
        return cls(
            remind_before=None if remind is None else timedelta(seconds=remind),
            sponsor_on_declare=tuple(data.get("sponsor_on_declare", SPONSOR_SEVERITIES)),
        )


@dataclass(frozen=True)
class StepDef:
    key: str
    title: str
    guidance: str
    role: str
    due: timedelta
    due_by_severity: Mapping[str, timedelta] = field(default_factory=FrozenMap)
    after: tuple[str, ...] = ()
    when: Condition | None = None
    approval: tuple[str, ...] = ()
    template: str | None = None
    checklist: tuple[str, ...] = ()
    required: bool = True
    publishes: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.due_by_severity, FrozenMap):
            object.__setattr__(self, "due_by_severity", FrozenMap(self.due_by_severity))

    def due_for(self, severity: str) -> timedelta:
        """Return how long after activation this step is due at the given severity."""
        return self.due_by_severity.get(severity, self.due)

    def applies(self, severity: str, answers: Mapping[str, str]) -> bool | None:
        """Return whether the step runs; None while its triage answers are pending."""
        if self.when is None:
            return True
        return self.when.evaluate(severity, answers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "guidance": self.guidance,
            "role": self.role,
            "due": _seconds(self.due),
            "due_by_severity": {k: _seconds(v) for k, v in self.due_by_severity.items()},
            "after": list(self.after),
            "when": None
            if self.when is None
            else {
                "severities": list(self.when.severities),
                "answers": {k: list(v) for k, v in self.when.answers.items()},
            },
            "approval": list(self.approval),
            "template": self.template,
            "checklist": list(self.checklist),
            "required": self.required,
            "publishes": self.publishes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepDef:
        when = data.get("when")
        return cls(
            key=data["key"],
            title=data["title"],
            guidance=data["guidance"],
            role=data["role"],
            due=timedelta(seconds=data["due"]),
            due_by_severity={
                k: timedelta(seconds=v) for k, v in data.get("due_by_severity", {}).items()
            },
            after=tuple(data.get("after", ())),
            when=None
            if when is None
            else Condition(
                severities=tuple(when.get("severities", ())),
                answers={k: tuple(v) for k, v in when.get("answers", {}).items()},
            ),
            approval=tuple(data.get("approval", ())),
            template=data.get("template"),
            checklist=tuple(data.get("checklist", ())),
            required=data.get("required", True),
            publishes=data.get("publishes", False),
        )


@dataclass(frozen=True)
class Playbook:
    key: str
    title: str
    description: str
    default_severity: str
    triage_role: str = "triage-lead"
    questions: tuple[TriageQuestion, ...] = ()
    escalation: EscalationPolicy = field(default_factory=lambda: EscalationPolicy(levels=()))
    notifications: NotifySettings = field(default_factory=NotifySettings)
    # File order; `ordered_steps()` gives an order that respects `after`.
    steps: tuple[StepDef, ...] = ()

    def step(self, key: str) -> StepDef:
        """Return the step with this key (KeyError if there is none)."""
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def question(self, key: str) -> TriageQuestion:
        """Return the triage question with this key (KeyError if there is none)."""
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(key)

    def ordered_steps(self) -> tuple[StepDef, ...]:
        """Return the steps so each comes after everything it is `after`; ties keep file order."""
        # Computed once per definition: declaring an incident asks every time.
        ordered = self.__dict__.get("_ordered_steps")
        if ordered is None:
            ordered = self._order_steps()
            object.__setattr__(self, "_ordered_steps", ordered)  # frozen: a cache, not a field
        return ordered

    def _order_steps(self) -> tuple[StepDef, ...]:
        position = {step.key: index for index, step in enumerate(self.steps)}
        waiting = {step.key: {a for a in step.after if a in position} for step in self.steps}
        dependents: dict[str, list[str]] = {step.key: [] for step in self.steps}
        for key, needs in waiting.items():
            for need in needs:
                dependents[need].append(key)
        ready = [position[key] for key, needs in waiting.items() if not needs]
        heapq.heapify(ready)
        ordered: list[StepDef] = []
        while ready:
            step = self.steps[heapq.heappop(ready)]
            ordered.append(step)
            for dependent in dependents[step.key]:
                waiting[dependent].discard(step.key)
                if not waiting[dependent]:
                    heapq.heappush(ready, position[dependent])
        if len(ordered) != len(self.steps):
            stuck = sorted(key for key, needs in waiting.items() if needs)
            raise ValueError(f"steps {', '.join(stuck)} depend on each other in a cycle")
        return tuple(ordered)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (durations in whole seconds); `from_dict` inverts it."""
        policy = self.escalation
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "default_severity": self.default_severity,
            "triage_role": self.triage_role,
            "questions": [
                {"key": q.key, "prompt": q.prompt, "choices": list(q.choices)}
                for q in self.questions
            ],
            "escalation": {
                "levels": [
                    {
                        "after": _seconds(level.after),
                        "notify": list(level.notify),
                        "channels": list(level.channels),
                    }
                    for level in policy.levels
                ],
                "repeat_every": None
                if policy.repeat_every is None
                else _seconds(policy.repeat_every),
                "acknowledge_snooze": _seconds(policy.acknowledge_snooze),
            },
            "notifications": self.notifications.to_dict(),
            "steps": [step.to_dict() for step in self.steps],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Playbook:
        """Rebuild a playbook from `to_dict` output."""
        esc = data["escalation"]
        return cls(
            key=data["key"],
            title=data["title"],
            description=data.get("description", ""),
            default_severity=data["default_severity"],
            triage_role=data.get("triage_role", "triage-lead"),
            questions=tuple(
                TriageQuestion(key=q["key"], prompt=q["prompt"], choices=tuple(q["choices"]))
                for q in data.get("questions", ())
            ),
            escalation=EscalationPolicy(
                levels=tuple(
                    EscalationLevel(
                        after=timedelta(seconds=level["after"]),
                        notify=tuple(level["notify"]),
                        channels=tuple(level["channels"]),
                    )
                    for level in esc["levels"]
                ),
                repeat_every=None
                if esc.get("repeat_every") is None
                else timedelta(seconds=esc["repeat_every"]),
                acknowledge_snooze=timedelta(seconds=esc.get("acknowledge_snooze", 900)),
            ),
            notifications=NotifySettings.from_dict(data.get("notifications")),
            steps=tuple(StepDef.from_dict(step) for step in data["steps"]),
        )


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())
