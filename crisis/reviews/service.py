"""Post-incident reviews: write one after resolution; SEV1/SEV2 incidents need one to close."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select

from crisis import clock
from crisis.enums import IncidentStatus, Severity
from crisis.errors import Forbidden, InvalidInput
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.people.models import Person
from crisis.people.service import find_person
from crisis.permissions import EDIT_REVIEW_RULE, can_write_review
from crisis.reviews.models import PostIncidentReview, ReviewAction, ReviewVersion
from crisis.timeline import service as timeline
from crisis.timeline.models import TimelineEvent

# Severities whose incidents may not be closed before a review is written.
REVIEW_REQUIRED_SEVERITIES = (Severity.SEV1.value, Severity.SEV2.value)
SEVERITY_VALUES = tuple(severity.value for severity in Severity)
REVIEWABLE_STATUSES = (IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value)
MAX_TEXT = 20_000
MAX_REASON = 2_000


@dataclass(frozen=True)
class ActionInput:
    """A follow-up action as submitted: owner by email, due date as given."""

    description: str
    owner_email: str
    due_on: date | str | None


def has_review(incident: Incident) -> bool:
    """Return whether the incident has a post-incident review."""
    return bool(db.session.scalar(select(exists().where(PostIncidentReview.incident_id == incident.id))))


def highest_severity(incident: Incident) -> str:
    """Return the highest severity the incident ever had (lowering it later does not lower this)."""
    changes = db.session.scalars(
        select(TimelineEvent.data).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "incident.severity_changed"
        )
    )
    seen = [incident.severity, *(data.get("before") for data in changes if isinstance(data, dict))]
    # SEV1 is the highest, and the names sort in that order.
    return min(value for value in seen if value in SEVERITY_VALUES)


def review_required_to_close(incident: Incident) -> bool:
    """Return whether closing this incident needs a review it does not have yet.

    The requirement follows the highest severity the incident ever had, so lowering the
    severity of a resolved SEV1 does not let it close without a review.
    """
    return highest_severity(incident) in REVIEW_REQUIRED_SEVERITIES and not has_review(incident)


def get_review(incident: Incident) -> PostIncidentReview | None:
    """Return the incident's review, or None when none is written yet."""
    return db.session.scalar(select(PostIncidentReview).where(PostIncidentReview.incident_id == incident.id))


def _text(value: str | None, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field.replace('_', ' ').capitalize()} must not be empty.", field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field.replace('_', ' ')} is longer than {MAX_TEXT} characters", field=field)
    return text


def _due(value: date | str | None, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("Give the due date as a date, for example 2026-12-15.", field=field) from None


def _actions(actions: Sequence[ActionInput]) -> list[ReviewAction]:
    result = []
    for index, action in enumerate(actions):
        field = f"actions[{index}]"
        description = _text(action.description, f"{field}.description", required=True)
        if not action.owner_email.strip():
            raise InvalidInput("Every follow-up action needs an owner.", field=f"{field}.owner")
        owner = find_person(action.owner_email)
        if owner is None:
            raise InvalidInput("Nobody here has that email address: choose the owner from the list.", field=f"{field}.owner")
        due_on = _due(action.due_on, f"{field}.due_on")
        result.append(ReviewAction(position=index, description=description, owner_id=owner.id, due_on=due_on))
    return result


def write_review(
    *,
    incident: Incident,
    actor: Person,
    what_happened: str,
    went_well: str = "",
    to_change: str = "",
    training_needs: str = "",
    actions: Sequence[ActionInput] = (),
    reason: str = "",
) -> PostIncidentReview:
    """Write the incident's post-incident review, or amend it: each save is a new version, kept.

    After the incident is closed an amendment needs a reason. One timeline event either way.
    """
    review = get_review(incident)
    if not can_write_review(actor, incident, review):
        if review is None:
            raise Forbidden("Only responders and declarers write post-incident reviews.")
        raise Forbidden(f"This review can be changed by {EDIT_REVIEW_RULE}", field="review")
    if incident.status not in REVIEWABLE_STATUSES:
        raise InvalidInput(
            f"{incident.ref} is {incident.status}; a review is written after it is resolved", field="status"
        )
    reason = _text(reason, "reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason can be at most {MAX_REASON} characters.", field="reason")
    if review is not None and incident.status == IncidentStatus.CLOSED.value and not reason:
        raise InvalidInput(f"{incident.ref} is closed: say why the review is amended", field="reason")
    fields = {
        "what_happened": _text(what_happened, "what_happened", required=True),
        "went_well": _text(went_well, "went_well"),
        "to_change": _text(to_change, "to_change"),
        "training_needs": _text(training_needs, "training_needs"),
    }
    new_actions = _actions(actions)
    kind = "review.updated" if review is not None else "review.written"
    now = clock.now()
    if review is None:
        review = PostIncidentReview(incident_id=incident.id, author_id=actor.id, created_at=now, **fields)
        db.session.add(review)
        changed = [*fields, "actions"]
    else:
        changed = [name for name, value in fields.items() if getattr(review, name) != value]
        if _action_rows(review.actions) != _action_rows(new_actions):
            changed.append("actions")
        for name, value in fields.items():
            setattr(review, name, value)
        review.actions.clear()
    review.updated_at = now
    review.actions.extend(new_actions)
    db.session.flush()
    number = len(review.versions) + 1
    review.versions.append(ReviewVersion(
        number=number, **fields, actions=_saved_actions(new_actions), changed=changed, reason=reason,
        edited_by_id=actor.id, edited_at=now,
    ))
    verb = "updated" if kind == "review.updated" else "wrote"
    summary = f"{actor.name} {verb} the post-incident review ({len(new_actions)} follow-up actions)"
    if reason:
        summary += f": {reason}"
    timeline.record(
        incident_id=incident.id,
        kind=kind,
        summary=summary,
        actor=actor,
        data={"review": review.id, "actions": len(new_actions), "version": number, "changed": changed,
              "reason": reason},
    )
    return review


def _action_rows(actions: Sequence[ReviewAction]) -> list[tuple]:
    return [(a.description, a.owner_id, a.due_on) for a in actions]


def _saved_actions(actions: Sequence[ReviewAction]) -> list[dict]:
    owners = {person.id: person.email for person in db.session.scalars(
        select(Person).where(Person.id.in_({a.owner_id for a in actions}))
    )} if actions else {}
    return [{"description": a.description, "owner": owners.get(a.owner_id), "due_on": a.due_on.isoformat()}
            for a in actions]


def review_versions(review: PostIncidentReview) -> list[ReviewVersion]:
    """Return every saved version of a review, newest first."""
    return list(reversed(review.versions))


def list_reviews() -> list[PostIncidentReview]:
    """Return every review, newest first, for the learning and training overview."""
    return list(db.session.scalars(select(PostIncidentReview).order_by(PostIncidentReview.updated_at.desc())))

