"""Authority follows training: a spokesperson publishes only while their spokesperson training is valid."""

from __future__ import annotations

from datetime import timedelta

from crisis import clock
from crisis.extensions import db
from crisis.people.service import get_person
from crisis.statements import service as statements
from crisis.statements.models import Statement, StatementStatus
from crisis.training.models import TrainingCompletion


def _authorise(app, team, *, trained_days_ago: int) -> None:
    with app.app_context():
        statements.authorise_spokesperson(
            person=get_person(team.spokes), platform="x", granted_by=get_person(team.admin),
            trained_at=clock.now() - timedelta(days=trained_days_ago),
        )
        db.session.commit()


def test_an_expired_spokesperson_is_refused_and_a_renewed_one_may_publish(app, team, incident_factory, holding,
                                                                          api_client, runner):
    ref = incident_factory(links=[("x", "https://x.com/someone/status/1")])
    _authorise(app, team, trained_days_ago=400)  # the course counts 365 days
    statement_id = holding.approved(ref)
    spokes = api_client(team.spokes)

    refused = spokes.post(f"/api/v1/incidents/{ref}/statements/{statement_id}/publish", json={"url": "https://x.com/co/status/9"})
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["field"] == "actor"
    assert "expired on" in error["message"] and "renew the course 'Speaking for the company'" in error["message"]
    with app.app_context():
        assert db.session.get(Statement, statement_id).status == StatementStatus.APPROVED.value

    renewed = runner.invoke(args=["training", "record", team.spokes, "spokesperson", "--on", "2026-11-20"])
    assert renewed.exit_code == 0, renewed.output
    published = spokes.post(f"/api/v1/incidents/{ref}/statements/{statement_id}/publish", json={"url": "https://x.com/co/status/9"})
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["status"] == "published"


def test_training_lapses_with_time_alone(app, team, clock):
    _authorise(app, team, trained_days_ago=300)
    with app.app_context():
        assert statements.is_spokesperson(get_person(team.spokes), "x")
    clock.advance(days=70)
    with app.app_context():
        assert not statements.is_spokesperson(get_person(team.spokes), "x")


def test_spokespeople_trained_keeps_working_and_records_a_completion(app, team, runner):
    result = runner.invoke(args=["spokespeople", "authorise", team.spokes, "--platform", "x"])
    assert result.exit_code == 0 and "cannot publish until trained" in result.output
    with app.app_context():
        authorisation_id = statements.list_spokespeople()[0].id
    result = runner.invoke(args=["spokespeople", "trained", str(authorisation_id), "2026-11-19"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        (completion,) = db.session.scalars(db.select(TrainingCompletion)).all()
        assert (completion.person.email, completion.course_key, completion.source) == (team.spokes, "spokesperson", "spokespeople")
        assert completion.completed_at.date().isoformat() == "2026-11-19"
        assert statements.is_spokesperson(get_person(team.spokes), "x")
