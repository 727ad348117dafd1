"""Publish a policy version, acknowledge it, see who has not, remind them until they do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crisis import clock
from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.extensions import db
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.playbooks.validation import content_hash
from crisis.policy.models import PolicyAcknowledgement, PolicyVersion
from crisis.training.courses import courses
from crisis.training.service import record_completion

MAX_POLICY = 50_000
REMIND_EVERY = timedelta(days=7)
# Acknowledging the policy is the policy course's completion (training/social-media-policy.yaml).
POLICY_COURSE = "social-media-policy"


def current_policy() -> PolicyVersion | None:
    """Return the version in force (the highest number), if any was published."""
    return db.session.scalar(select(PolicyVersion).order_by(PolicyVersion.number.desc()).limit(1))


def publish_policy(*, body: str, actor: Person | None, actor_label: str = "") -> PolicyVersion:
    """Publish a new version of the policy; everyone must acknowledge it again."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("The policy text must not be empty", field="body")
    if len(body) > MAX_POLICY:
        raise InvalidInput(f"The policy text is longer than {MAX_POLICY} characters", field="body")
    current = current_policy()
    digest = content_hash(body)
    if current is not None and current.content_hash == digest:
        raise Conflict(f"This text is already version {current.number}", field="body")
    version = PolicyVersion(
        number=(current.number + 1) if current else 1, body=body, content_hash=digest, published_at=clock.now(),
        published_by_id=actor.id if actor else None, published_by_label=actor.name if actor else actor_label,
    )
    db.session.add(version)
    db.session.flush()
    return version


def acknowledge_policy(*, person: Person, number: int) -> PolicyAcknowledgement:
    """Record that the person read version `number`; only the version in force can be acknowledged."""
    current = current_policy()
    if current is None:
        raise NotFound("No policy has been published yet", field="version")
    if number != current.number:
        raise Conflict(f"Version {number} is not in force; read and acknowledge version {current.number}", field="version")
    if acknowledgement_of(person=person, version=current) is not None:
        raise Conflict(f"{person.name} already acknowledged version {current.number}", field="version")
    acknowledgement = PolicyAcknowledgement(version_id=current.id, person_id=person.id, acknowledged_at=clock.now())
    db.session.add(acknowledgement)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"{person.name} already acknowledged version {current.number}", field="version") from None
    if POLICY_COURSE in courses():
        record_completion(
            person=person, course_key=POLICY_COURSE, completed_on=clock.now().astimezone(UTC).date(), source="web",
            recorded_by=person, evidence=f"Acknowledged the social media policy, version {current.number}",
        )
    return acknowledgement


def acknowledgement_of(*, person: Person, version: PolicyVersion) -> PolicyAcknowledgement | None:
    return db.session.scalar(select(PolicyAcknowledgement).where(
        PolicyAcknowledgement.version_id == version.id, PolicyAcknowledgement.person_id == person.id))


def not_acknowledged(*, version: PolicyVersion) -> list[Person]:
    """Return the active people who have not acknowledged this version, by name."""
    done = select(PolicyAcknowledgement.person_id).where(PolicyAcknowledgement.version_id == version.id)
    return list(db.session.scalars(
        select(Person).where(Person.active.is_(True), Person.id.not_in(done)).order_by(Person.name)
    ))


def acknowledged_share(*, version: PolicyVersion | None) -> float:
    """Return the share of active people who acknowledged the version (0 with no version)."""
    if version is None:
        return 0.0
    active = db.session.scalar(select(func.count()).select_from(Person).where(Person.active.is_(True))) or 0
    if not active:
        return 0.0
    return 1 - len(not_acknowledged(version=version)) / active


def send_policy_reminders(*, now: datetime | None = None) -> int:
    """Remind everyone who has not acknowledged the version in force, once a week until they do."""
    now = now or clock.now()
    current = current_policy()
    if current is None:
        return 0
    week = int((now - current.published_at) / REMIND_EVERY)
    sent = 0
    for person in not_acknowledged(version=current):
        # One key per person, version and week since publishing: a repeat in the same week writes nothing.
        rows = notify(
            recipients=[person], incident=None, dedup_key=f"policy:{current.number}:{person.id}:{week}",
            subject=f"Please read and acknowledge the social media policy (version {current.number})",
            body="The social media policy says what you may share online and to whom you report what you spot. "
                 "Read it and acknowledge it in crisis.",
            channels=("email", "in_app"), link="/policy",
        )
        sent += bool(rows)
    return sent
