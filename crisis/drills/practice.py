"""Taking part in a drill counts as practice: a completion of each course for the roles played."""

from __future__ import annotations

from datetime import UTC, datetime

from crisis.drills.models import DrillRun
from crisis.drills.scoring import score_incident
from crisis.training.courses import courses
from crisis.training.service import record_completion


def record_practice(*, run: DrillRun, on: datetime) -> int:
    """Record a drill completion for every participant on every course their played roles need."""
    score = score_incident(incident=run.incident, now=on)
    recorded = 0
    all_courses = list(courses().values())
    for person in score.participants:
        played = score.roles_played.get(person.id, set())
        for course in all_courses:
            if played & set(course.roles) and person.active:
                record_completion(
                    person=person, course_key=course.key, completed_on=on.astimezone(UTC).date(), source="drill",
                    recorded_by_label="drill", evidence=f"Took part in drill {run.incident.ref}: {run.scenario_title}",
                )
                recorded += 1
    return recorded
