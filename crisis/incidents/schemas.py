"""Request and response schemas of the incidents API (they also write its OpenAPI document).

The response models are the one place an incident, a step or an event is shaped for the API:
each has an `of` that builds it from the model object, and endpoints return it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from crisis.incidents.models import Incident, IncidentStep
    from crisis.timeline.models import TimelineEvent

SeverityName = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
StatusName = Literal["declared", "triage", "responding", "monitoring", "resolved", "closed"]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=50, description="x, tiktok, reddit, instagram, news ...")
    url: str = Field(min_length=1, max_length=2000, description="http(s) address of the post or thread")

    @field_validator("url")
    @classmethod
    def http_only(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.strip()


class DeclareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    playbook: str = Field(min_length=1, max_length=64, description="playbook key, e.g. viral-complaint")
    title: str = Field(min_length=1, max_length=200)
    severity: SeverityName | None = Field(default=None, description="default: the playbook's default severity")
    summary: str = Field(default="", max_length=10_000)
    triage_owner: str | None = Field(
        default=None, max_length=254, description="email; default: the primary of the playbook's triage role"
    )
    links: list[LinkIn] = Field(default_factory=list, max_length=20)
    triage_answers: dict[str, str] = Field(default_factory=dict, description="question key -> choice")
    is_drill: bool = False


class IncidentChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: SeverityName | None = None
    status: StatusName | None = None
    triage_owner: str | None = Field(default=None, max_length=254, description="email")
    force_reason: str | None = Field(
        default=None, max_length=2000, description="resolve although required steps are open, saying why"
    )
    title: str | None = Field(default=None, min_length=1, max_length=200, description="correct the title")
    summary: str | None = Field(default=None, max_length=10_000, description="correct the summary")
    links: list[LinkIn] | None = Field(default=None, max_length=20, description="replace the source links")


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, str] = Field(min_length=1, description="question key -> choice")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class EmptyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=10_000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class OptionalReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str = Field(min_length=1, max_length=254, description="email of the new owner")


class StepOut(BaseModel):
    key: str
    title: str
    role: str
    owner: str | None
    status: str
    applies: bool | None
    applicability: str
    activated_at: str | None
    due_at: str | None
    acknowledged_at: str | None
    completed_at: str | None
    note: str
    blocked_reason: str
    escalation_level: int
    next_escalation_at: str | None

    @classmethod
    def of(cls, step: IncidentStep) -> StepOut:
        return cls(
            key=step.key,
            title=step.title,
            role=step.role,
            owner=step.owner.email if step.owner is not None else None,
            status=step.status,
            applies=step.applies,
            applicability=step.applicability,
            activated_at=_iso(step.activated_at),
            due_at=_iso(step.due_at),
            acknowledged_at=_iso(step.acknowledged_at),
            completed_at=_iso(step.completed_at),
            note=step.note,
            blocked_reason=step.blocked_reason,
            escalation_level=step.escalation_level,
            next_escalation_at=_iso(step.next_escalation_at),
        )


class PlaybookRefOut(BaseModel):
    key: str
    version: int


class LinkOut(BaseModel):
    platform: str
    url: str


class IncidentOut(BaseModel):
    ref: str
    title: str
    summary: str
    severity: str
    status: str
    playbook: PlaybookRefOut
    triage_owner: str | None
    declared_at: str
    resolved_at: str | None
    closed_at: str | None
    is_drill: bool
    links: list[LinkOut]
    triage_answers: dict[str, str]
    steps: list[StepOut]
    warnings: list[str] = Field(default_factory=list, description="only on declaration")

    @classmethod
    def of(cls, incident: Incident, *, warnings: list[str] | None = None) -> IncidentOut:
        """The incident with its steps; `warnings` only when answering its declaration."""
        version = incident.playbook_version
        extra = {"warnings": warnings} if warnings else {}  # unset otherwise: left out of the answer
        return cls(
            **_summary_fields(incident),
            summary=incident.summary,
            playbook=PlaybookRefOut(key=version.key, version=version.version),
            resolved_at=_iso(incident.resolved_at),
            closed_at=_iso(incident.closed_at),
            links=[LinkOut(platform=link.platform, url=link.url) for link in incident.links],
            triage_answers=dict(incident.triage_answers or {}),
            steps=[StepOut.of(step) for step in incident.steps],
            **extra,
        )


class IncidentSummaryOut(BaseModel):
    ref: str
    title: str
    severity: str
    status: str
    triage_owner: str | None
    declared_at: str
    is_drill: bool

    @classmethod
    def of(cls, incident: Incident) -> IncidentSummaryOut:
        return cls(**_summary_fields(incident))


class IncidentListOut(BaseModel):
    incidents: list[IncidentSummaryOut]
    next_cursor: str | None = None


class EventOut(BaseModel):
    at: str
    kind: str
    actor: str
    summary: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: TimelineEvent) -> EventOut:
        return cls(at=event.at.isoformat(), kind=event.kind, actor=event.actor_name, summary=event.summary,
                   data=event.data)


class TimelineOut(BaseModel):
    events: list[EventOut]
    next_cursor: str | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary_fields(incident: Incident) -> dict[str, Any]:
    # The fields an incident's list entry and its full answer share.
    return {
        "ref": incident.ref,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "triage_owner": incident.triage_owner.email if incident.triage_owner is not None else None,
        "declared_at": incident.declared_at.isoformat(),
        "is_drill": incident.is_drill,
    }
