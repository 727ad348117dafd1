"""Post-incident reviews: written after resolution, required to close SEV1/SEV2, on the timeline."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.extensions import db
from crisis.reviews.models import PostIncidentReview, ReviewAction
from crisis.timeline.models import TimelineEvent


def _count(model, app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _form(**overrides):
    data = {
        "what_happened": "A customer's video spread to the press.",
        "went_well": "Holding statement in 9 minutes.",
        "to_change": "Legal on the rota at weekends.",
        "training_needs": "Spokesperson on-camera drills.",
        "action_description": ["Weekend legal rota", ""],
        "action_owner": ["legal@example.com", ""],
        "action_due": ["2026-12-05", ""],
    }
    data.update(overrides)
    return data


def test_sev2_cannot_close_without_review_then_can(app, client, team, login, desk, incident_factory, clock):
    from crisis.incidents.service import change_incident, get_incident
    from crisis.people.service import get_person
    from crisis.reviews.service import has_review

    ref = incident_factory(severity="SEV2")
    clock.advance(hours=2)
    desk.resolve(ref)
    with app.app_context():
        with pytest.raises(Conflict, match="review"):
            change_incident(incident=get_incident(ref), actor=get_person(team.lead), status="closed")
        db.session.rollback()
        assert not has_review(get_incident(ref))

    login(team.lead)
    timeline = client.get(f"/incidents/{ref}/timeline").get_data(as_text=True)
    assert f'href="/incidents/{ref}/review"' in timeline  # resolved: the timeline links to its review
    response = client.post(f"/incidents/{ref}/review", data=_form())
    assert response.status_code == 302
    page = client.get(f"/incidents/{ref}/review").get_data(as_text=True)
    assert "Weekend legal rota" in page and "Update review" in page
    with app.app_context():
        incident = get_incident(ref)
        assert has_review(incident)
        events = db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind.startswith("review."))).all()
        assert [e.kind for e in events] == ["review.written"]
        change_incident(incident=incident, actor=get_person(team.lead), status="closed")
        db.session.commit()
        assert get_incident(ref).status == "closed"


def test_rewriting_replaces_actions_and_records_one_update(app, client, team, login, desk, incident_factory, clock):
    ref = incident_factory()
    clock.advance(hours=1)
    desk.resolve(ref)
    login(team.lead)
    client.post(f"/incidents/{ref}/review", data=_form())
    response = client.post(
        f"/incidents/{ref}/review",
        data=_form(action_description=["Rota", "FAQ update"], action_owner=[team.legal, team.care],
                   action_due=["2026-12-05", "2026-12-10"]),
    )
    assert response.status_code == 302
    assert _count(PostIncidentReview, app) == 1
    assert _count(ReviewAction, app) == 2
    with app.app_context():
        kinds = db.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.kind.startswith("review."))).all()
        assert kinds == ["review.written", "review.updated"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"what_happened": "   "}, "What happened must not be empty"),
        ({"action_owner": ["nobody@example.com", ""]}, "Nobody here has that email address"),
        ({"action_due": ["next week", ""]}, "Give the due date as a date"),
        ({"action_description": ["", ""], "action_due": ["2026-12-05", ""]}, "must not be empty"),
    ],
)
def test_bad_review_input_is_refused_and_changes_nothing(app, client, team, login, desk, incident_factory, clock, overrides, message):
    ref = incident_factory()
    clock.advance(hours=1)
    desk.resolve(ref)
    login(team.lead)
    events_before = _count(TimelineEvent, app)
    response = client.post(f"/incidents/{ref}/review", data=_form(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Spokesperson on-camera drills." in page  # what was typed is kept
    assert _count(PostIncidentReview, app) == 0 and _count(ReviewAction, app) == 0
    assert _count(TimelineEvent, app) == events_before


def test_review_waits_for_resolution(app, client, team, login, incident_factory):
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.reviews.service import write_review

    ref = incident_factory()
    login(team.lead)
    page = client.get(f"/incidents/{ref}/review").get_data(as_text=True)
    assert "once the incident is resolved" in page and "<form method=\"post\" class=\"card review-form\"" not in page
    assert client.post(f"/incidents/{ref}/review", data=_form()).status_code == 422
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            write_review(incident=get_incident(ref), actor=get_person(team.lead), what_happened="x")
        assert error.value.field == "status"
    assert _count(PostIncidentReview, app) == 0


def test_viewer_reads_reviews_but_cannot_write(app, client, team, login, desk, incident_factory, clock):
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.reviews.service import write_review

    ref = incident_factory()
    clock.advance(hours=1)
    desk.resolve(ref)
    with app.app_context():
        with pytest.raises(Forbidden):
            write_review(incident=get_incident(ref), actor=get_person(team.exec), what_happened="x")
        write_review(incident=get_incident(ref), actor=get_person(team.lead), what_happened="It spread.",
                     training_needs="Media training for the regional team.",
                     actions=[])
        db.session.commit()
    login(team.exec)
    assert client.post(f"/incidents/{ref}/review", data=_form()).status_code == 403
    page = client.get(f"/incidents/{ref}/review").get_data(as_text=True)
    assert "It spread." in page and "<textarea" not in page
    overview = client.get("/reviews").get_data(as_text=True)
    assert ref in overview and "Media training for the regional team." in overview
    with app.app_context():
        review = db.session.scalar(select(PostIncidentReview))
        assert review.what_happened == "It spread."


def test_empty_review_overview(client, team, login):
    login(team.exec)
    assert "No reviews yet" in client.get("/reviews").get_data(as_text=True)


def test_action_due_dates_must_be_dates(app, team, desk, incident_factory, clock):
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.reviews.service import ActionInput, write_review

    ref = incident_factory()
    clock.advance(hours=1)
    desk.resolve(ref)
    with app.app_context():
        review = write_review(
            incident=get_incident(ref), actor=get_person(team.lead), what_happened="x",
            actions=[ActionInput("Rota", team.legal, "2026-12-05"), ActionInput("FAQ", team.care, date(2026, 12, 9))],
        )
        assert [a.due_on for a in review.actions] == [date(2026, 12, 5), date(2026, 12, 9)]
        assert [a.owner.email for a in review.actions] == [team.legal, team.care]
