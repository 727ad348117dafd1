"""Wire shapes of drills: starting one, a run, and a score (the API's answers and OpenAPI schemas)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crisis.drills.models import DrillRun


class DrillStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, max_length=64)


class InjectOut(BaseModel):
    key: str
    title: str
    due_at: str
    posted_at: str | None


class DrillRunOut(BaseModel):
    ref: str
    scenario: str
    title: str
    started_at: str
    ended_at: str | None
    ended_early: bool
    injects: list[InjectOut]


class StepScoreOut(BaseModel):
    key: str
    title: str
    role: str
    owner: str | None
    due_at: str
    completed_at: str | None
    on_time: bool
    late_seconds: int | None


class ParticipantOut(BaseModel):
    email: str
    name: str
    roles: list[str]


class ApproverOut(BaseModel):
    role: str
    person: str | None
    name: str | None
    decision: str
    seconds_to_sign: int | None


class ScoreOut(BaseModel):
    ref: str
    on_time_share: float = Field(ge=0, le=1)
    steps: list[StepScoreOut]
    participants: list[ParticipantOut]
    first_acknowledgement_seconds: int | None
    holding_statement_approved_seconds: int | None
    holding_statement_published_seconds: int | None
    approvers: list[ApproverOut]


def run_dict(run: DrillRun) -> dict:
    return DrillRunOut(
        ref=run.incident.ref, scenario=run.scenario_key, title=run.scenario_title,
        started_at=run.started_at.isoformat(), ended_at=run.ended_at.isoformat() if run.ended_at else None,
        ended_early=run.ended_early,
        injects=[
            InjectOut(key=i.key, title=i.title, due_at=i.due_at.isoformat(),
                      posted_at=i.posted_at.isoformat() if i.posted_at else None)
            for i in run.injects
        ],
    ).model_dump()
