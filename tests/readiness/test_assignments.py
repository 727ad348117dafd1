"""A review's training needs become assignments, tracked to done, with reminders."""

from __future__ import annotations

import html
from datetime import date

from sqlalchemy import select

from crisis.extensions import db
from crisis.incidents.service import change_incident, get_incident
from crisis.notifications.models import Notification
from crisis.people.service import get_person
from crisis.reviews.service import write_review
from crisis.training.assignments import assignments, send_assignment_reminders
from crisis.training.models import TrainingAssignment


def _reviewed(app, team, incident_factory) -> str:
    ref = incident_factory(severity="SEV3")
    with app.app_context():
        lead = get_person(team.lead)
        change_incident(incident=get_incident(ref), actor=lead, status="resolved", force_reason="test")
        write_review(incident=get_incident(ref), actor=lead, what_happened="A kettle",
                     training_needs="Legal must practise approving with the backup.")
        db.session.commit()
    return ref


def test_training_needs_become_assignments_done_when_the_course_is_recorded(app, team, incident_factory, client,
                                                                          login, runner, clock):
    ref = _reviewed(app, team, incident_factory)
    login(team.lead)
    page = client.get(f"/incidents/{ref}/review").get_data(as_text=True)
    assert "Training from this review" in page
    done = client.post(f"/incidents/{ref}/review/training", data={
        "email": team.legal, "course": "legal-marketing-approval", "due_on": "2026-11-30", "note": "With the backup",
    }, follow_redirects=True).get_data(as_text=True)
    assert "Assigned to Legal, due 30 Nov 2026." in done and "Not yet" in done

    clock.advance(days=6)  # 27 Nov: three days before it falls due
    with app.app_context():
        assert send_assignment_reminders() == 1
        db.session.commit()
        assert send_assignment_reminders() == 0  # once a day
        # Declaring told the team of its work too; the reminders are the "Due …" messages.
        subjects = {n.subject for n in db.session.scalars(select(Notification))
                    if n.channel == "in_app" and n.subject.startswith("Due ")}
        assert subjects == {"Due 30 Nov 2026: complete 'Approving statements together (legal and marketing)'"}

    result = runner.invoke(args=["training", "record", team.legal, "legal-marketing-approval", "--on", "2026-11-27"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        (assignment,) = assignments(person=get_person(team.legal))
        assert assignment.done_at is not None and assignment.completion_id is not None
    clock.advance(days=1)
    with app.app_context():
        assert send_assignment_reminders() == 0
    login(team.legal)
    assert "done" in client.get("/training").get_data(as_text=True)


def test_a_completion_from_before_the_assignment_does_not_close_it(app, team, incident_factory, client, login, runner):
    ref = _reviewed(app, team, incident_factory)
    runner.invoke(args=["training", "record", team.legal, "legal-marketing-approval", "--on", "2026-11-20"])
    login(team.lead)
    client.post(f"/incidents/{ref}/review/training", data={
        "email": team.legal, "course": "legal-marketing-approval", "due_on": "2026-11-30"})
    with app.app_context():
        (assignment,) = assignments(person=get_person(team.legal))
        assert assignment.done_at is None


def test_bad_assignments_are_refused_and_change_nothing(app, team, incident_factory, client, login, count):
    ref = _reviewed(app, team, incident_factory)
    login(team.lead)
    for data, message in [
        ({"email": team.legal, "course": "juggling", "due_on": "2026-11-30"}, "There is no such course"),
        ({"email": "nobody@example.com", "course": "spokesperson", "due_on": "2026-11-30"}, "Nobody here has that email address"),
        ({"email": team.legal, "course": "spokesperson", "due_on": "2026-11-01"}, "is in the past"),
        ({"email": team.legal, "course": "spokesperson", "due_on": "soon"}, "Give the due date as a date"),
    ]:
        page = html.unescape(client.post(f"/incidents/{ref}/review/training", data=data, follow_redirects=True).get_data(as_text=True))
        assert "Nothing assigned" in page and message in page
    login(team.viewer)
    assert client.post(f"/incidents/{ref}/review/training", data={
        "email": team.legal, "course": "spokesperson", "due_on": date(2026, 11, 30).isoformat()}).status_code == 403
    assert count(TrainingAssignment) == 0
