"""The timeline nobody can rewrite: the session refuses to update or delete a TimelineEvent."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from crisis.extensions import db
from crisis.incidents import service
from crisis.people.service import get_person
from crisis.timeline.models import AppendOnlyViolation, TimelineEvent
from tests.support.incidents import kinds


@pytest.fixture
def ref(team, incident_factory):
    return incident_factory()


def _first_event(ref: str) -> TimelineEvent:
    return service.events_of(service.get_incident(ref))[0]


def _original(app, ref: str) -> tuple[str, str, dict]:
    with app.app_context():
        event = _first_event(ref)
        return event.kind, event.summary, dict(event.data)


def test_modifying_an_event_is_refused_at_flush(app, ref):
    before = _original(app, ref)
    with app.app_context():
        event = _first_event(ref)
        event.summary = "Nothing happened here"
        with pytest.raises(AppendOnlyViolation):
            db.session.commit()
        db.session.rollback()
    assert _original(app, ref) == before


def test_changing_an_events_data_is_refused(app, ref):
    before = _original(app, ref)
    with app.app_context():
        event = _first_event(ref)
        event.data = {**event.data, "severity": "SEV4"}
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
    assert _original(app, ref) == before


def test_deleting_an_event_is_refused(app, ref):
    before = kinds(app, ref)
    with app.app_context():
        db.session.delete(_first_event(ref))
        with pytest.raises(AppendOnlyViolation):
            db.session.commit()
        db.session.rollback()
    assert kinds(app, ref) == before


@pytest.mark.parametrize(
    "statement",
    [
        update(TimelineEvent).values(summary="rewritten"),
        delete(TimelineEvent),
        update(TimelineEvent).where(TimelineEvent.kind == "incident.declared").values(kind="incident.note"),
    ],
    ids=["bulk-update", "bulk-delete", "targeted-update"],
)
def test_bulk_rewrites_through_the_session_are_refused(app, ref, statement):
    before = kinds(app, ref)
    with app.app_context():
        with pytest.raises(AppendOnlyViolation):
            db.session.execute(statement)
        db.session.rollback()
    assert kinds(app, ref) == before


def test_reading_events_is_fine_and_new_events_append(app, ref, team):
    with app.app_context():
        count = len(db.session.scalars(select(TimelineEvent)).all())
        service.add_note(incident=service.get_incident(ref), actor=get_person(team.lead), text="Still fine")
        db.session.commit()
        assert len(db.session.scalars(select(TimelineEvent)).all()) == count + 1
