"""API: a person's training records, and recording a completion."""

from __future__ import annotations

from crisis.api import api_route, current_actor, parse_body
from crisis.errors import Forbidden
from crisis.extensions import db
from crisis.people.service import get_person
from crisis.permissions import can_read_training_of
from crisis.training import service
from crisis.training.shapes import (
    CompletionIn,
    CompletionOut,
    TrainingOut,
    completion_out,
    training_out,
)


@api_route("/people/<email>/training", summary="A person's training records", permission=None,
           response=TrainingOut, tag="training")
def person_training(email: str):
    actor = current_actor()
    person = get_person(email)
    if not can_read_training_of(actor, person):
        raise Forbidden("Only the person, executives and admins may read these training records", field="email")
    return training_out(person, service.training_of(person=person), service.completions_of(person=person)).model_dump()


@api_route("/people/<email>/training", method="POST", summary="Record a completed course",
           permission="admin", body=CompletionIn, response=CompletionOut, status=201, tag="training")
def record_training(email: str):
    body = parse_body(CompletionIn)
    completion = service.record_completion(
        person=get_person(email), course_key=body.course, completed_on=body.completed_on, source="api",
        recorded_by=current_actor(), evidence=body.evidence,
    )
    db.session.commit()
    return completion_out(completion).model_dump(), 201
