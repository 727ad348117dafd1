"""Escalation of incidents declared through the incident service, seen through the API and pages."""

from __future__ import annotations

import threading

from sqlalchemy import select

from crisis.errors import Conflict
from crisis.escalation.engine import run_sweep
from crisis.extensions import db
from crisis.incidents.service import acknowledge_step, complete_step, get_incident
from crisis.notifications.models import Notification
from crisis.people.service import get_person
from crisis.timeline.models import TimelineEvent


def step_events(app, ref, step_key):
    with app.app_context():
        incident = get_incident(ref)
        return [
            (e.kind, e.data.get("level"), e.data.get("notified"))
            for e in db.session.scalars(
                select(TimelineEvent).where(TimelineEvent.incident_id == incident.id).order_by(TimelineEvent.id)
            )
            if e.data.get("step") == step_key and e.kind in ("step.escalated", "step.completed", "step.acknowledged")
        ]


def sweep(app):
    with app.app_context():
        result = run_sweep()
        db.session.remove()
        return result


def test_declared_incident_escalates_along_its_playbook(app, team, incident_factory, api_client, clock):
    ref = incident_factory(triage_owner_email=team.lead)
    api = api_client(team.lead)
    step = next(s for s in api.get(f"/api/v1/incidents/{ref}").get_json()["steps"] if s["key"] == "gather-facts")
    assert (step["status"], step["escalation_level"]) == ("active", 0)
    owner = step["owner"]
    clock.advance(minutes=15)  # gather-facts is due 15 min after a SEV2 declaration
    sweep(app)
    step = next(s for s in api.get(f"/api/v1/incidents/{ref}").get_json()["steps"] if s["key"] == "gather-facts")
    assert step["escalation_level"] == 1
    assert step_events(app, ref, "gather-facts") == [("step.escalated", 1, [owner])]
    timeline = api.get(f"/api/v1/incidents/{ref}/timeline").get_json()["events"]
    escalated = [e for e in timeline if e["kind"] == "step.escalated"]
    assert escalated[0]["actor"] == "scheduler" and escalated[0]["data"]["step"] == "gather-facts"

    with app.app_context():
        acknowledge_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(owner))
        db.session.commit()
    clock.advance(minutes=10)
    sweep(app)
    assert [level for kind, level, _ in step_events(app, ref, "gather-facts") if kind == "step.escalated"] == [1]
    clock.advance(minutes=5)
    sweep(app)
    events = step_events(app, ref, "gather-facts")
    assert events[-1][:2] == ("step.escalated", 2)
    # Level 2 names the triage owner and the role lead, both the lead here, whom level 1 reached:
    # it goes on to someone new, the triage role's backup.
    assert set(events[-1][2]) == {team.triage_backup}

    with app.app_context():
        complete_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(owner), note="done")
        db.session.commit()
    clock.advance(hours=6)
    sweep(app)
    assert [k for k, _, _ in step_events(app, ref, "gather-facts")].count("step.escalated") == 2


def test_incident_page_and_my_steps_show_the_escalation_level(app, team, incident_factory, client, login, clock):
    ref = incident_factory(triage_owner_email=team.lead)
    clock.advance(minutes=26)
    sweep(app)
    login(team.lead)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "escalation level 2" in page
    assert "escalated L2" in client.get("/my-steps").get_data(as_text=True)
    inbox = client.get("/notifications").get_data(as_text=True)
    assert f"{ref}" in inbox and "Overdue (level" in inbox


def test_completion_racing_the_sweep_never_precedes_an_escalation(app, team, incident_factory, clock):
    """A step completed while a sweep runs is escalated before the completion or not at all (20 races)."""
    outcomes = []
    for _ in range(20):
        ref = incident_factory(triage_owner_email=team.lead)
        with app.app_context():
            incident = get_incident(ref)
            owner = incident.step("gather-facts").owner.email
        clock.advance(minutes=16)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def complete(ref=ref, owner=owner, barrier=barrier, errors=errors):
            try:
                with app.app_context():
                    barrier.wait()
                    complete_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(owner))
                    db.session.commit()
                    db.session.remove()
            except BaseException as error:  # noqa: BLE001 - asserted below
                errors.append(error)

        def race_sweep(barrier=barrier, errors=errors):
            try:
                barrier.wait()
                sweep(app)
            except BaseException as error:  # noqa: BLE001 - asserted below
                errors.append(error)

        threads = [threading.Thread(target=complete), threading.Thread(target=race_sweep)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        kinds = [kind for kind, _, _ in step_events(app, ref, "gather-facts")]
        assert kinds in (["step.completed"], ["step.escalated", "step.completed"]), kinds
        outcomes.append(len(kinds))
        clock.advance(hours=2)
        sweep(app)
        assert [kind for kind, _, _ in step_events(app, ref, "gather-facts")] == kinds, "nothing after completion"
        with app.app_context():
            incident = get_incident(ref)
            assert incident.step("gather-facts").escalation_level == kinds.count("step.escalated")
            try:
                complete_step(incident=incident, step_key="gather-facts", actor=get_person(owner))
            except Conflict:
                db.session.rollback()
            else:
                raise AssertionError("a second completion must be refused")
    assert len(outcomes) == 20


def test_escalation_notifications_link_to_the_incident(app, team, incident_factory, clock):
    ref = incident_factory(triage_owner_email=team.lead)
    clock.advance(minutes=15)
    sweep(app)
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.channel == "email")).all()
        assert rows and all(f"/incidents/{ref}" in row.body for row in rows)
        assert all(row.payload["incident"] == ref for row in rows)
