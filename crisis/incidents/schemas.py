"""Request and response schemas of the incidents API (they also write its OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class IncidentSummaryOut(BaseModel):
    ref: str
    title: str
    severity: str
    status: str
    triage_owner: str | None
    declared_at: str
    is_drill: bool


class IncidentListOut(BaseModel):
    incidents: list[IncidentSummaryOut]


class EventOut(BaseModel):
    at: str
    kind: str
    actor: str
    summary: str
    data: dict[str, Any]


class TimelineOut(BaseModel):
    events: list[EventOut]
