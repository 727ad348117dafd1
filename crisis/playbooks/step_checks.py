"""Checks of one playbook step: its keys, due times, `when` condition and template."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crisis.enums import SEVERITIES, ResponseRole
from crisis.playbooks.definition import (
    TEMPLATE_FIELDS,
    Condition,
    StepDef,
    TriageQuestion,
    placeholders,
)
from crisis.playbooks.readers import MAX_TITLE_LENGTH, PlaybookReaders
from crisis.yamlcheck import Path_, hint, kind

STEP_KEYS = ("key", "title", "guidance", "role", "due", "after", "when", "approval", "template",
             "checklist", "required", "publishes")
STEP_REQUIRED = ("key", "title", "guidance", "role", "due")
WHEN_KEYS = ("severity", "answers")


@dataclass
class StepInfo:
    index: int
    key: str | None = None
    title: str | None = None
    guidance: str | None = None
    role: str | None = None
    due: timedelta | None = None
    due_by_severity: dict[str, timedelta] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)
    when: Condition | None = None
    when_given: bool = False
    dead_reason: str | None = None  # why the `when` can never match, if it cannot
    approval: list[str] = field(default_factory=list)
    template: str | None = None
    checklist: list[str] = field(default_factory=list)
    required: bool = True
    publishes: bool = False


class StepChecks(PlaybookReaders):
    def steps(self, value: Any, questions: Mapping[str, TriageQuestion]) -> list[StepDef]:
        path: Path_ = ("steps",)
        if not isinstance(value, list):
            self.report(path, f"steps must be a list of steps, got {kind(value)}")
            return []
        if not value:
            self.report(path, "a playbook needs at least one step")
            return []
        infos: list[StepInfo] = []
        first_index: dict[str, int] = {}
        # Keys first, so every later problem can name its step.
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                self.item_names.setdefault(i, item["key"])
        for i, item in enumerate(value):
            info = self.step(i, item, questions)
            if info is None:
                continue
            if info.key is not None:
                if info.key in first_index:
                    first_line = self.lines.get(("steps", first_index[info.key], "key"))
                    self.report(("steps", i, "key"),
                                f"duplicate step key '{info.key}' (first defined on line "
                                f"{first_line})")
                    continue
                first_index[info.key] = i
            infos.append(info)
        self.graph(infos, first_index)
        return [
            StepDef(
                key=info.key or "",
                title=info.title or "",
                guidance=info.guidance or "",
                role=info.role or "",
                due=info.due or timedelta(0),
                due_by_severity=info.due_by_severity,
                after=tuple(info.after),
                when=info.when,
                approval=tuple(info.approval),
                template=info.template,
                checklist=tuple(info.checklist),
                required=info.required,
                publishes=info.publishes,
            )
            for info in infos
        ]

    def step(self, i: int, item: Any, questions: Mapping[str, TriageQuestion]
             ) -> StepInfo | None:
        path: Path_ = ("steps", i)
        data = self.mapping(item, path, "a step")
        if data is None:
            return None
        self.keys(data, path, STEP_KEYS, "a step", STEP_REQUIRED)
        info = StepInfo(index=i)
        if "key" in data:
            info.key = self.slug(data["key"], path + ("key",), "step key")
            if info.key is None:
                self.item_names.pop(i, None)
        info.title = self.text(data, "title", path, max_length=MAX_TITLE_LENGTH)
        info.guidance = self.text(data, "guidance", path)
        if "role" in data:
            info.role = self.known_role(data["role"], path + ("role",), "role")
        if "due" in data:
            self.due(data["due"], path + ("due",), info)
        if "after" in data:
            info.after = self.text_list(data["after"], path + ("after",), "after") or []
        if "when" in data:
            info.when_given = True
            info.when = self.when(data["when"], path + ("when",), questions, info)
        if "approval" in data:
            approval = self.text_list(data["approval"], path + ("approval",), "approval") or []
            for j, role in enumerate(approval):
                if self.known_role(role, path + ("approval", j), "approval role"):
                    info.approval.append(role)
        if "template" in data:
            info.template = self.text(data, "template", path)
            for name in dict.fromkeys(placeholders(info.template or "")):
                if name not in TEMPLATE_FIELDS:
                    self.report(
                        path + ("template",),
                        f"placeholder {{{name}}} is not filled by anything"
                        f"{hint(name, TEMPLATE_FIELDS)} (known: "
                        f"{', '.join(sorted(TEMPLATE_FIELDS))})",
                    )
        if "checklist" in data:
            info.checklist = self.text_list(data["checklist"], path + ("checklist",),
                                            "checklist") or []
        info.required = self.boolean(data, "required", path, True)
        info.publishes = self.boolean(data, "publishes", path, False)
        if info.publishes and info.role is not None and info.role != ResponseRole.SPOKESPERSON:
            self.report(path + ("role",),
                        "a step that publishes a statement must belong to the spokesperson "
                        f"role, not '{info.role}'")
        return info

    def due(self, value: Any, path: Path_, info: StepInfo) -> None:
        if not isinstance(value, dict):
            info.due = self.duration(value, path)
            return
        for key, raw in value.items():
            if key == "default":
                info.due = self.duration(raw, path + (key,))
            elif key in SEVERITIES:
                parsed = self.duration(raw, path + (key,))
                if parsed is not None:
                    info.due_by_severity[key] = parsed
            else:
                self.report(path + (key,),
                            f"unknown severity '{key}' in due (use {', '.join(SEVERITIES)} "
                            "or default)", at_key=True)
        if "default" not in value:
            if all(s in value for s in SEVERITIES):
                info.due = info.due_by_severity.get("SEV4")
            else:
                self.report(path, "due per severity needs a 'default' unless it lists "
                            "SEV1, SEV2, SEV3 and SEV4")

    def when(self, value: Any, path: Path_, questions: Mapping[str, TriageQuestion],
             info: StepInfo) -> Condition | None:
        data = self.mapping(value, path, "when")
        if data is None:
            return None
        self.keys(data, path, WHEN_KEYS, "when", ())
        if not any(k in data for k in WHEN_KEYS):
            self.report(path, "when must name a severity list, answers, or both")
            return None
        severities: list[str] = []
        answers: dict[str, tuple[str, ...]] = {}
        ok = True
        if "severity" in data:
            listed = self.text_list(data["severity"], path + ("severity",), "when.severity")
            if listed is None:
                ok = False
                info.dead_reason = "its severity list is unusable"
            for j, severity in enumerate(listed or []):
                if severity in SEVERITIES:
                    severities.append(severity)
                else:
                    ok = False
                    self.report(path + ("severity", j),
                                f"unknown severity '{severity}' (use {', '.join(SEVERITIES)})")
            if listed and not severities:
                info.dead_reason = "none of its severities exist"
                self.report(path + ("severity",),
                            "the step can never become active: no listed severity exists")
        if "answers" in data:
            raw = self.mapping(data["answers"], path + ("answers",), "when.answers")
            if raw is None:
                ok = False
            elif not raw:
                ok = False
                self.report(path + ("answers",), "when.answers must name at least one question")
            for question_key, accepted in (raw or {}).items():
                qpath = path + ("answers", question_key)
                question = questions.get(question_key)
                if question is None:
                    ok = False
                    info.dead_reason = f"it depends on unknown question '{question_key}'"
                    self.report(
                        qpath,
                        f"the step can never become active: unknown question '{question_key}'"
                        f"{hint(question_key, questions)}"
                        + (f" (questions: {', '.join(questions)})" if questions else
                           " (the playbook has no questions)"),
                        at_key=True,
                    )
                    continue
                values = self.text_list(accepted, qpath, f"accepted answers to '{question_key}'")
                if values is None:
                    ok = False
                    continue
                valid = []
                for j, answer in enumerate(values):
                    if question.choices and answer not in question.choices:
                        ok = False
                        self.report(
                            qpath + (j,),
                            f"'{answer}' is not a choice of question '{question_key}' "
                            f"({', '.join(question.choices)}){hint(answer, question.choices)}",
                        )
                    else:
                        valid.append(answer)
                if not valid and question.choices:
                    info.dead_reason = f"no accepted answer to '{question_key}' is a choice"
                    self.report(qpath, "the step can never become active: no accepted answer "
                                f"to '{question_key}' is one of its choices", at_key=True)
                answers[question_key] = tuple(valid)
        if not ok:
            return None
        return Condition(severities=tuple(severities), answers=answers)

