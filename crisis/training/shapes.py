"""The wire shape of a person's training records (the API's answer and its OpenAPI schema)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from crisis.people.models import Person
from crisis.training.models import TrainingCompletion
from crisis.training.service import CourseStatus


class CompletionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course: str = Field(min_length=1, max_length=64)
    completed_on: date
    evidence: str = Field(default="", max_length=2000)


class CourseStandingOut(BaseModel):
    course: str
    title: str
    required: bool
    state: str
    valid: bool
    completed_on: str | None
    expires_on: str | None


class CompletionOut(BaseModel):
    id: int
    course: str
    completed_on: str
    expires_on: str
    source: str
    evidence: str
    recorded_by: str
    recorded_at: str


class TrainingOut(BaseModel):
    email: str
    name: str
    courses: list[CourseStandingOut]
    completions: list[CompletionOut]


def completion_out(completion: TrainingCompletion) -> CompletionOut:
    return CompletionOut(
        id=completion.id, course=completion.course_key, completed_on=completion.completed_at.date().isoformat(),
        expires_on=completion.expires_at.date().isoformat(), source=completion.source, evidence=completion.evidence,
        recorded_by=completion.recorded_by.email if completion.recorded_by else completion.recorded_by_label,
        recorded_at=completion.recorded_at.isoformat(),
    )


def training_out(person: Person, statuses: list[CourseStatus], completions: list[TrainingCompletion]) -> TrainingOut:
    return TrainingOut(
        email=person.email, name=person.name,
        courses=[
            CourseStandingOut(
                course=s.course.key, title=s.course.title, required=s.required, state=s.state, valid=s.valid,
                completed_on=s.latest.completed_at.date().isoformat() if s.latest else None,
                expires_on=s.latest.expires_at.date().isoformat() if s.latest else None,
            )
            for s in statuses
        ],
        completions=[completion_out(c) for c in completions],
    )
