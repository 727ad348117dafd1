"""API: `GET /api/v1/playbooks` and `GET /api/v1/playbooks/<key>`."""

from __future__ import annotations

from datetime import timedelta

from flask import request
from pydantic import BaseModel

from crisis.api import api_route
from crisis.api.paging import QUERY_DOCS, page_from_request
from crisis.inputs import parse_id
from crisis.playbooks.definition import SEVERITIES, Playbook
from crisis.playbooks.durations import format_duration
from crisis.playbooks.models import PlaybookVersion
from crisis.playbooks.service import definition_of, get_playbook_version, list_playbooks


class PlaybookStepBriefOut(BaseModel):
    key: str
    title: str
    role: str


class PlaybookSummaryOut(BaseModel):
    key: str
    title: str
    version: int
    description: str
    default_severity: str
    step_count: int
    steps: list[PlaybookStepBriefOut]
    loaded_at: str  # ISO 8601 with offset


class PlaybookListOut(BaseModel):
    playbooks: list[PlaybookSummaryOut]
    next_cursor: str | None = None


class QuestionOut(BaseModel):
    key: str
    prompt: str
    choices: list[str]


class LevelOut(BaseModel):
    level: int
    after_seconds: int
    after: str
    notify: list[str]
    channels: list[str]


class EscalationOut(BaseModel):
    levels: list[LevelOut]
    repeat_every_seconds: int | None
    repeat_every: str | None
    acknowledge_snooze_seconds: int
    acknowledge_snooze: str


class ConditionOut(BaseModel):
    severities: list[str]
    answers: dict[str, list[str]]


class PlaybookStepOut(BaseModel):
    key: str
    title: str
    role: str
    guidance: str
    after: list[str]
    when: ConditionOut | None
    approval: list[str]
    template: str | None
    checklist: list[str]
    required: bool
    publishes: bool
    due: dict[str, str]  # per severity, e.g. {"SEV1": "15m", ...}
    due_seconds: dict[str, int]


class PlaybookOut(BaseModel):
    key: str
    title: str
    version: int
    is_current: bool
    description: str
    default_severity: str
    triage_role: str
    content_hash: str
    loaded_at: str  # ISO 8601 with offset
    questions: list[QuestionOut]
    escalation: EscalationOut
    steps: list[PlaybookStepOut]


def summary_of(version: PlaybookVersion) -> PlaybookSummaryOut:
    playbook = definition_of(version)
    return PlaybookSummaryOut(
        key=version.key,
        title=version.title,
        version=version.version,
        description=playbook.description,
        default_severity=playbook.default_severity,
        step_count=len(playbook.steps),
        steps=[PlaybookStepBriefOut(key=s.key, title=s.title, role=s.role) for s in playbook.steps],
        loaded_at=version.loaded_at.isoformat(),
    )


def detail_of(version: PlaybookVersion) -> PlaybookOut:
    """Return the full JSON form of one playbook version."""
    playbook: Playbook = definition_of(version)
    policy = playbook.escalation
    return PlaybookOut(
        key=version.key,
        title=version.title,
        version=version.version,
        is_current=version.is_current,
        description=playbook.description,
        default_severity=playbook.default_severity,
        triage_role=playbook.triage_role,
        content_hash=version.content_hash,
        loaded_at=version.loaded_at.isoformat(),
        questions=[
            QuestionOut(key=q.key, prompt=q.prompt, choices=list(q.choices))
            for q in playbook.questions
        ],
        escalation=EscalationOut(
            levels=[
                LevelOut(level=n, after_seconds=_seconds(level.after),
                         after=format_duration(level.after), notify=list(level.notify),
                         channels=list(level.channels))
                for n, level in enumerate(policy.levels, 1)
            ],
            repeat_every_seconds=None if policy.repeat_every is None
            else _seconds(policy.repeat_every),
            repeat_every=None if policy.repeat_every is None
            else format_duration(policy.repeat_every),
            acknowledge_snooze_seconds=_seconds(policy.acknowledge_snooze),
            acknowledge_snooze=format_duration(policy.acknowledge_snooze),
        ),
        steps=[
            PlaybookStepOut(
                key=step.key,
                title=step.title,
                role=step.role,
                guidance=step.guidance,
                after=list(step.after),
                when=None if step.when is None else ConditionOut(
                    severities=list(step.when.severities),
                    answers={k: list(v) for k, v in step.when.answers.items()},
                ),
                approval=list(step.approval),
                template=step.template,
                checklist=list(step.checklist),
                required=step.required,
                publishes=step.publishes,
                due={s: format_duration(step.due_for(s)) for s in SEVERITIES},
                due_seconds={s: _seconds(step.due_for(s)) for s in SEVERITIES},
            )
            for step in playbook.steps
        ],
    )


@api_route("/playbooks", summary="List the current playbooks", permission="view",
           response=PlaybookListOut, tag="playbooks", query=QUERY_DOCS)
def api_list_playbooks():
    page = page_from_request("playbooks", str, str)
    versions, next_cursor = page.cut(list_playbooks(limit=page.fetch, after=page.after),
                                     key=lambda version: (version.title, version.key))
    return PlaybookListOut(playbooks=[summary_of(version) for version in versions], next_cursor=next_cursor)


@api_route("/playbooks/<key>", summary="One playbook: questions, escalation, steps",
           permission="view", response=PlaybookOut, tag="playbooks",
           query={"version": "a stored version number (default: the current one)"})
def api_get_playbook(key: str):
    number = parse_id(request.args.get("version"), field="version")
    return detail_of(get_playbook_version(key, version=number))


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())
