"""Training records: record a completion, read a person's records, who is overdue, reminders.

One function per behaviour; the web, API, CLI, the spokespeople commands and drills all call
these. Nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from crisis import clock
from crisis.errors import InvalidInput
from crisis.extensions import db
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.training.assignments import mark_done
from crisis.training.courses import SPOKESPERSON_COURSE, Course, courses, get_course
from crisis.training.models import TrainingCompletion

MAX_EVIDENCE = 2000
SOURCES = ("web", "api", "cli", "drill", "spokespeople")


@dataclass(frozen=True)
class CourseStatus:
    """Where one person stands on one course."""

    course: Course
    required: bool
    latest: TrainingCompletion | None
    state: str  # valid, expiring, expired, missing

    @property
    def valid(self) -> bool:
        return self.state in ("valid", "expiring")


def day_to_time(day: date) -> datetime:
    """A training date has no time of day: noon UTC keeps it on the same date everywhere."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def record_completion(
    *,
    person: Person,
    course_key: str,
    completed_on: date,
    source: str,
    recorded_by: Person | None = None,
    recorded_by_label: str = "",
    evidence: str = "",
) -> TrainingCompletion:
    """Record that a person completed a course on a day; it counts until the course's validity ends."""
    course = get_course(course_key)
    if not person.active:
        raise InvalidInput(f"{person.name} is disabled.", field="email")
    today = clock.now().astimezone(UTC).date()
    if completed_on > today:
        raise InvalidInput(f"The completion date {completed_on.strftime('%d %b %Y')} is in the future", field="completed_on")
    evidence = (evidence or "").strip()
    if len(evidence) > MAX_EVIDENCE:
        raise InvalidInput(f"The evidence note is longer than {MAX_EVIDENCE} characters", field="evidence")
    if source not in SOURCES:
        raise InvalidInput(f"Unknown source {source!r}", field="source")
    completed_at = day_to_time(completed_on)
    completion = TrainingCompletion(
        person_id=person.id, course_key=course.key, completed_at=completed_at,
        expires_at=completed_at + timedelta(days=course.valid_days), source=source, evidence=evidence,
        recorded_by_id=recorded_by.id if recorded_by else None,
        recorded_by_label=recorded_by.name if recorded_by else recorded_by_label,
        recorded_at=clock.now(),
    )
    db.session.add(completion)
    db.session.flush()
    mark_done(completion=completion)
    return completion


def latest_completion(*, person_id: int, course_key: str) -> TrainingCompletion | None:
    """Return the completion of this course that counts longest, if any."""
    return db.session.scalar(
        select(TrainingCompletion)
        .where(TrainingCompletion.person_id == person_id, TrainingCompletion.course_key == course_key)
        .order_by(TrainingCompletion.expires_at.desc(), TrainingCompletion.id.desc())
        .limit(1)
    )


def course_status(*, person: Person, course: Course, now: datetime | None = None) -> CourseStatus:
    """Return whether the person's training on a course is valid, about to lapse, expired or missing."""
    now = now or clock.now()
    latest = latest_completion(person_id=person.id, course_key=course.key)
    required = course.everyone or any(person.holds_role(role) for role in course.roles)
    if latest is None:
        state = "missing"
    elif latest.expires_at <= now:
        state = "expired"
    elif latest.expires_at - timedelta(days=course.remind_days) <= now:
        state = "expiring"
    else:
        state = "valid"
    return CourseStatus(course, required, latest, state)


def training_of(*, person: Person) -> list[CourseStatus]:
    """Return the person's standing on every course: the ones they need first, then the rest taken."""
    statuses = [course_status(person=person, course=c) for c in courses().values()]
    shown = [s for s in statuses if s.required or s.latest is not None]
    return sorted(shown, key=lambda s: (not s.required, s.course.title))


def completions_of(*, person: Person) -> list[TrainingCompletion]:
    """Return every completion recorded for the person, newest first."""
    return list(db.session.scalars(
        select(TrainingCompletion).where(TrainingCompletion.person_id == person.id)
        .order_by(TrainingCompletion.completed_at.desc(), TrainingCompletion.id.desc())
    ))


def spokesperson_training_problem(*, person: Person) -> str | None:
    """Return why the person's spokesperson training does not count now (None while it does)."""
    course = courses().get(SPOKESPERSON_COURSE)
    if course is None:
        return None  # no such course shipped: the authorisation's own training date decides
    status = course_status(person=person, course=course)
    if status.valid:
        return None
    if status.latest is None:
        return f"{person.name} has no record of the course '{course.title}'; record it to publish"
    expired = status.latest.expires_at.strftime("%d %b %Y")
    return f"{person.name}'s '{course.title}' training expired on {expired}; renew the course '{course.title}' to publish"


def record_spokesperson_training(*, person: Person, trained_at: datetime, recorded_by: Person | None) -> None:
    """Record a spokesperson authorisation's training date as a completion of the spokesperson course."""
    if SPOKESPERSON_COURSE in courses():
        record_completion(
            person=person, course_key=SPOKESPERSON_COURSE, completed_on=trained_at.astimezone(UTC).date(),
            source="spokespeople", recorded_by=recorded_by, recorded_by_label="spokesperson authorisation",
        )


def overdue(*, now: datetime | None = None) -> list[tuple[Person, CourseStatus]]:
    """Return (person, status) for every active person missing or expired on a course they need."""
    now = now or clock.now()
    people = db.session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name))
    found = []
    all_courses = list(courses().values())
    for person in people:
        for course in all_courses:
            status = course_status(person=person, course=course, now=now)
            if status.required and status.state in ("missing", "expired"):
                found.append((person, status))
    return found


def send_expiry_reminders(*, now: datetime | None = None) -> int:
    """Remind each person once per completion that is about to lapse; return how many were sent."""
    now = now or clock.now()
    sent = 0
    by_key = courses()
    # Only completions still counting can lapse; the longest remind window bounds the query.
    horizon = now + timedelta(days=max((c.remind_days for c in by_key.values()), default=0))
    candidates = db.session.scalars(
        select(TrainingCompletion).where(
            TrainingCompletion.reminded_at.is_(None), TrainingCompletion.expires_at > now,
            TrainingCompletion.expires_at <= horizon,
        )
    ).all()
    for completion in candidates:
        course = by_key.get(completion.course_key)
        if course is None or completion.expires_at - timedelta(days=course.remind_days) > now:
            continue
        latest = latest_completion(person_id=completion.person_id, course_key=completion.course_key)
        if latest is not None and latest.id != completion.id:
            continue  # renewed meanwhile
        claimed = db.session.execute(
            update(TrainingCompletion).where(TrainingCompletion.id == completion.id, TrainingCompletion.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        expires = completion.expires_at.strftime("%d %b %Y")
        notify(
            recipients=[completion.person], incident=None, dedup_key=f"training-expiry:{completion.id}",
            subject=f"Your '{course.title}' training expires on {expires}",
            body=f"Your '{course.title}' training counts until {expires}. Renew it before then.",
            channels=("email", "in_app"), link="/training",
        )
        sent += 1
    return sent

