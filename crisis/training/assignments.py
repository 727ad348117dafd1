"""Training assignments: a review's training needs become (course, person, due date), tracked to done.

An assignment is done when a completion of its course is recorded for its person on or after
the day it was assigned (the recording marks it, in the same transaction). Open assignments
are reminded once a day from three days before they fall due.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from crisis import clock
from crisis.errors import InvalidInput, NotFound
from crisis.extensions import db
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.reviews.models import PostIncidentReview
from crisis.training.courses import get_course
from crisis.training.models import TrainingAssignment, TrainingCompletion

REMIND_FROM = timedelta(days=3)
MAX_NOTE = 1000


def assign_training(
    *, person: Person, course_key: str, due_on: date, assigned_by: Person | None, review_id: int | None = None,
    note: str = "",
) -> TrainingAssignment:
    """Assign a course to a person, due on a day (today or later)."""
    course = get_course(course_key)
    if not person.active:
        raise InvalidInput(f"{person.name} is disabled.", field="email")
    if due_on < clock.now().astimezone(UTC).date():
        raise InvalidInput(f"The due date {due_on.strftime('%d %b %Y')} is in the past", field="due_on")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note is longer than {MAX_NOTE} characters", field="note")
    if review_id is not None and db.session.get(PostIncidentReview, review_id) is None:
        raise NotFound("There is no such review.", field="review")
    assignment = TrainingAssignment(
        person_id=person.id, course_key=course.key, due_on=due_on, review_id=review_id, note=note,
        assigned_by_id=assigned_by.id if assigned_by else None, assigned_at=clock.now(),
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def mark_done(*, completion: TrainingCompletion) -> int:
    """Close the person's open assignments of this course that the completion satisfies."""
    return db.session.execute(
        update(TrainingAssignment)
        .where(TrainingAssignment.person_id == completion.person_id,
               TrainingAssignment.course_key == completion.course_key,
               TrainingAssignment.done_at.is_(None),
               TrainingAssignment.assigned_at < completion.completed_at + timedelta(hours=12))  # same UTC day or later
        .values(done_at=clock.now(), completion_id=completion.id)
        .execution_options(synchronize_session=False)
    ).rowcount


def assignments(*, person: Person | None = None, review_id: int | None = None, open_only: bool = False
                ) -> list[TrainingAssignment]:
    """Return assignments (of a person or a review), open ones first, by due date."""
    query = select(TrainingAssignment).order_by(TrainingAssignment.done_at.is_not(None), TrainingAssignment.due_on,
                                                TrainingAssignment.id)
    if person is not None:
        query = query.where(TrainingAssignment.person_id == person.id)
    if review_id is not None:
        query = query.where(TrainingAssignment.review_id == review_id)
    if open_only:
        query = query.where(TrainingAssignment.done_at.is_(None))
    return list(db.session.scalars(query))


def send_assignment_reminders(*, now: datetime | None = None) -> int:
    """Remind each open assignment's person once a day from three days before it falls due."""
    now = now or clock.now()
    today = now.astimezone(UTC).date()
    sent = 0
    for assignment in db.session.scalars(select(TrainingAssignment).where(
        TrainingAssignment.done_at.is_(None), TrainingAssignment.due_on <= today + REMIND_FROM
    )):
        course = get_course(assignment.course_key)
        due = assignment.due_on.strftime("%d %b %Y")
        late = assignment.due_on < today
        rows = notify(
            recipients=[assignment.person], incident=None,
            dedup_key=f"training-assignment:{assignment.id}:{today.isoformat()}",
            subject=f"{'Overdue' if late else 'Due ' + due}: complete '{course.title}'",
            body=f"You were asked to complete '{course.title}' by {due}."
                 + (f" {assignment.note}" if assignment.note else ""),
            channels=("email", "in_app"), link=f"/training/courses/{course.key}",
        )
        sent += bool(rows)
    return sent
