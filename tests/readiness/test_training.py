"""Training records: recorded from the API, the CLI and the web; expiry, reminders, overdue; bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crisis.extensions import db
from crisis.notifications.models import Notification
from crisis.people.service import get_person
from crisis.training import service
from crisis.training.models import TrainingCompletion

TODAY = date(2026, 11, 21)  # the frozen clock's day (tests/conftest.py START)


def test_a_person_reads_their_training_and_an_admin_records_a_completion(team, api_client):
    spokes = api_client(team.spokes)
    before = spokes.get(f"/api/v1/people/{team.spokes}/training").get_json()
    assert [(c["course"], c["state"], c["required"]) for c in before["courses"]] == [
        ("spokesperson", "missing", True), ("social-media-policy", "missing", True)]

    response = api_client(team.admin).post(
        f"/api/v1/people/{team.spokes}/training",
        json={"course": "spokesperson", "completed_on": "2026-11-20", "evidence": "Workshop with the comms lead"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["course"], body["completed_on"], body["expires_on"]) == ("spokesperson", "2026-11-20", "2027-11-20")
    assert (body["source"], body["recorded_by"], body["evidence"]) == ("api", team.admin, "Workshop with the comms lead")

    after = spokes.get(f"/api/v1/people/{team.spokes}/training").get_json()
    assert after["courses"][0] == {
        "course": "spokesperson", "title": "Speaking for the company", "required": True, "state": "valid",
        "valid": True, "completed_on": "2026-11-20", "expires_on": "2027-11-20",
    }
    assert [c["id"] for c in after["completions"]] == [body["id"]]


def test_everyone_needs_the_policy_course_and_roles_add_theirs(app, team):
    with app.app_context():
        courses = {s.course.key for s in service.training_of(person=get_person(team.legal)) if s.required}
    assert courses == {"legal-marketing-approval", "social-media-policy"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"course": "juggling", "completed_on": "2026-11-20"}, 404, "course"),
        ({"course": "spokesperson", "completed_on": "2026-11-22"}, 422, "completed_on"),
        ({"course": "spokesperson", "completed_on": "yesterday"}, 400, "completed_on"),
        ({"course": "spokesperson"}, 400, "completed_on"),
        ({"course": "spokesperson", "completed_on": "2026-11-20", "extra": 1}, 400, "extra"),
        ({"course": "spokesperson", "completed_on": "2026-11-20", "evidence": "x" * 2001}, 400, "evidence"),
    ],
)
def test_bad_completions_are_refused_naming_the_field_and_change_nothing(team, api_client, count, body, status, field):
    response = api_client(team.admin).post(f"/api/v1/people/{team.spokes}/training", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert count(TrainingCompletion) == 0


def test_an_unknown_person_is_a_404_naming_the_email(team, api_client, count):
    response = api_client(team.admin).post(
        "/api/v1/people/nobody@example.com/training", json={"course": "spokesperson", "completed_on": "2026-11-20"}
    )
    assert (response.status_code, response.get_json()["error"]["field"]) == (404, "email")
    assert api_client(team.admin).get("/api/v1/people/nobody@example.com/training").status_code == 404
    assert count(TrainingCompletion) == 0


def test_only_admins_record_and_only_the_person_executives_and_admins_read(team, make_person, api_client, count):
    response = api_client(team.lead).post(
        f"/api/v1/people/{team.spokes}/training", json={"course": "spokesperson", "completed_on": "2026-11-20"}
    )
    assert response.status_code == 403
    outsider = make_person("outsider@example.com", permissions=())
    assert api_client(outsider).get(f"/api/v1/people/{team.spokes}/training").status_code == 403
    assert api_client(outsider).get(f"/api/v1/people/{outsider}/training").status_code == 200
    assert count(TrainingCompletion) == 0


def test_the_cli_records_a_completion_with_who_and_why(app, team, runner):
    result = runner.invoke(args=["training", "record", team.social, "community-moderator", "--on", "2026-11-01",
                                 "--evidence", "Shadowed the care team", "--by", team.admin])
    assert result.exit_code == 0, result.output
    assert "valid until 2027-11-01" in result.output
    with app.app_context():
        (completion,) = db.session.scalars(db.select(TrainingCompletion)).all()
        assert (completion.source, completion.recorded_by.email, completion.evidence) == (
            "cli", team.admin, "Shadowed the care team")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody@example.com", "spokesperson", "--on", "2026-11-01"], "Nobody here has that email address"),
        (["spokes@example.com", "juggling", "--on", "2026-11-01"], "There is no such course"),
        (["spokes@example.com", "spokesperson", "--on", "2026-12-01"], "is in the future"),
        (["spokes@example.com", "spokesperson", "--on", "1 Nov"], "Invalid value for '--on'"),
    ],
)
def test_the_cli_refuses_bad_input_and_records_nothing(team, runner, count, args, message):
    result = runner.invoke(args=["training", "record", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert count(TrainingCompletion) == 0


def test_the_web_form_records_and_refuses_bad_dates(team, client, login, count):
    login(team.admin)
    bad = client.post("/training/record", data={"email": team.spokes, "course": "spokesperson", "completed_on": "2030-01-01"},
                      follow_redirects=True)
    assert "Nothing recorded" in bad.get_data(as_text=True) and "in the future" in bad.get_data(as_text=True)
    assert count(TrainingCompletion) == 0
    good = client.post("/training/record", data={"email": team.spokes, "course": "spokesperson", "completed_on": "2026-11-20",
                                                 "evidence": "Workshop"}, follow_redirects=True)
    page = good.get_data(as_text=True)
    assert "Recorded: Spokes completed the course on 20 Nov 2026" in page
    assert count(TrainingCompletion) == 1


def test_my_training_page_shows_standing_and_admins_see_who_is_overdue(app, team, client, login):
    with app.app_context():
        service.record_completion(person=get_person(team.spokes), course_key="spokesperson",
                                  completed_on=TODAY - timedelta(days=400), source="cli")
        db.session.commit()
    login(team.spokes)
    page = client.get("/training").get_data(as_text=True)
    assert "Speaking for the company" in page and "Expired" in page and "Overdue" not in page
    client.post("/logout")
    login(team.admin)
    page = client.get("/training").get_data(as_text=True)
    assert "Overdue" in page and "Spokes" in page


def test_expiry_and_who_is_overdue(app, team):
    with app.app_context():
        spokes = get_person(team.spokes)
        service.record_completion(person=spokes, course_key="spokesperson", completed_on=TODAY - timedelta(days=366),
                                  source="cli")
        overdue = {(p.email, s.course.key, s.state) for p, s in service.overdue()}
        assert (team.spokes, "spokesperson", "expired") in overdue
        assert (team.legal, "legal-marketing-approval", "missing") in overdue
        service.record_completion(person=spokes, course_key="spokesperson", completed_on=TODAY, source="cli")
        assert (team.spokes, "spokesperson", "expired") not in {(p.email, s.course.key, s.state) for p, s in service.overdue()}


def test_people_are_reminded_once_before_a_completion_lapses(app, team, clock):
    with app.app_context():
        spokes = get_person(team.spokes)
        # Valid 365 days, reminded 30 days before: 340 days old leaves 25 days.
        service.record_completion(person=spokes, course_key="spokesperson", completed_on=TODAY - timedelta(days=340),
                                  source="cli")
        service.record_completion(person=get_person(team.legal), course_key="legal-marketing-approval",
                                  completed_on=TODAY - timedelta(days=10), source="cli")
        db.session.commit()
        assert service.send_expiry_reminders() == 1
        db.session.commit()
        assert service.send_expiry_reminders() == 0
        rows = db.session.scalars(db.select(Notification)).all()
        assert rows and {r.recipient.email for r in rows} == {team.spokes}
        assert all(r.subject.endswith("Your 'Speaking for the company' training expires on 16 Dec 2026") for r in rows)
