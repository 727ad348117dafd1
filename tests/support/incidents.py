"""Read incident state back through the domain service, and run a sweep."""

from __future__ import annotations

from sqlalchemy import func, select

from crisis.escalation.engine import run_sweep
from crisis.extensions import db
from crisis.incidents import service
from crisis.incidents.models import Incident, IncidentCounter
from crisis.incidents.schemas import IncidentOut, StepOut
from crisis.people.service import get_person
from crisis.timeline.models import TimelineEvent


def kinds(app, ref: str) -> list[str]:
    """The incident's timeline event kinds, oldest first."""
    with app.app_context():
        return [e.kind for e in service.events_of(service.get_incident(ref))]


def events(app, ref: str, kind: str) -> list[dict]:
    with app.app_context():
        return [
            {"data": e.data, "summary": e.summary, "actor": e.actor_name}
            for e in service.events_of(service.get_incident(ref))
            if e.kind == kind
        ]


def step_state(app, ref: str, key: str) -> dict:
    with app.app_context():
        return StepOut.of(service.get_incident(ref).step(key)).model_dump()


def incident_state(app, ref: str) -> dict:
    with app.app_context():
        return IncidentOut.of(service.get_incident(ref)).model_dump(exclude_unset=True)


def counts(app) -> tuple[int, int, int]:
    """(incidents, timeline events, highest reference number handed out)."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Incident)),
            db.session.scalar(select(func.count()).select_from(TimelineEvent)),
            db.session.scalar(select(func.coalesce(func.max(IncidentCounter.last_number), 0))),
        )


def act(app, action, ref: str, actor: str, **kwargs):
    """Run a service action as `actor` (email) on incident `ref`, commit, return the result as a dict."""
    with app.app_context():
        result = action(incident=service.get_incident(ref), actor=get_person(actor), **kwargs)
        db.session.commit()
        if hasattr(result, "key") and hasattr(result, "incident_id"):
            return StepOut.of(result).model_dump()
        if isinstance(result, Incident):
            return IncidentOut.of(result).model_dump(exclude_unset=True)
        return result


def sweep(app) -> None:
    """Run one escalation sweep and commit it, as the scheduler would."""
    with app.app_context():
        run_sweep()
        db.session.commit()
