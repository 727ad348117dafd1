"""Drills: injects arrive at their times, a drill ends early, its score is what hand computation gives."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crisis.drills.models import DrillInject, DrillRun
from crisis.extensions import db
from crisis.incidents.service import acknowledge_step, complete_step, get_incident
from crisis.notifications.models import Notification
from crisis.notifications.webhooks import add_webhook
from crisis.people.service import get_person
from crisis.readiness.sweep import run_readiness_sweep
from crisis.timeline.models import TimelineEvent
from crisis.training.models import TrainingCompletion


def _start(api_client, team, scenario: str = "kettle-complaint") -> dict:
    response = api_client(team.lead).post("/api/v1/drills", json={"scenario": scenario})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _sweep(app) -> int:
    with app.app_context():
        return run_readiness_sweep().injects


def _inject_events(app, ref: str) -> list[tuple[str, object]]:
    with app.app_context():
        incident = get_incident(ref)
        events = db.session.scalars(
            select(TimelineEvent).where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "drill.inject")
            .order_by(TimelineEvent.id)
        )
        return [(e.data["inject"], e.at) for e in events]


def test_injects_arrive_at_their_times_and_a_drill_can_end_early(app, team, synced, api_client, clock):
    start = clock()
    drill = _start(api_client, team)
    ref = drill["ref"]
    assert [(i["key"], i["due_at"]) for i in drill["injects"]] == [
        ("ten-thousand-shares", (start + timedelta(minutes=10)).isoformat()),
        ("journalist-deadline", (start + timedelta(minutes=20)).isoformat()),
        ("legal-unreachable", (start + timedelta(minutes=30)).isoformat()),
    ]
    incident = api_client(team.lead).get(f"/api/v1/incidents/{ref}").get_json()
    assert incident["is_drill"] is True and incident["severity"] == "SEV2"

    assert _sweep(app) == 0
    clock.advance(minutes=9, seconds=59)
    assert _sweep(app) == 0 and _inject_events(app, ref) == []
    clock.advance(seconds=1)
    assert _sweep(app) == 1
    assert _sweep(app) == 0  # posted once
    assert _inject_events(app, ref) == [("ten-thousand-shares", start + timedelta(minutes=10))]

    clock.advance(minutes=15)  # 25 min: the second is due, the third not yet
    assert _sweep(app) == 1
    assert [key for key, _ in _inject_events(app, ref)] == ["ten-thousand-shares", "journalist-deadline"]
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.dedup_key.like("drill-inject:%"))).all()
        in_app = {r.recipient.email: r.subject for r in rows if r.channel == "in_app"}
        # The second names comms-lead and spokesperson: their holders hear it as well as the step owners.
        assert team.spokes in in_app and team.lead in in_app
        assert all(subject.startswith("[DRILL] ") for subject in in_app.values())
        assert all("[DRILL]" in r.subject for r in rows)

    ended = api_client(team.lead).post(f"/api/v1/incidents/{ref}/drill/end")
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["ended_early"] is True
    clock.advance(minutes=30)
    assert _sweep(app) == 0  # an ended drill posts nothing more
    assert len(_inject_events(app, ref)) == 2
    assert api_client(team.lead).post(f"/api/v1/incidents/{ref}/drill/end").status_code == 409
    assert api_client(team.lead).get(f"/api/v1/incidents/{ref}").get_json()["status"] == "resolved"


def test_a_drill_score_equals_hand_computation(app, team, synced, api_client, clock, holding, runner):
    start = clock()
    runner.invoke(args=["spokespeople", "authorise", team.spokes, "--platform", "x", "--trained", "2026-11-01"])
    ref = _start(api_client, team)["ref"]
    with app.app_context():
        lead = get_person(team.lead)
        clock.advance(minutes=3)
        acknowledge_step(incident=get_incident(ref), step_key="gather-facts", actor=lead)
        db.session.commit()
        clock.advance(minutes=14)  # 09:17; gather-facts was due 09:15 (SEV2: 15 min)
        complete_step(incident=get_incident(ref), step_key="gather-facts", actor=lead, note="facts")
        db.session.commit()
    clock.advance(minutes=2)  # 09:19
    statement_id = holding.approved(ref)
    clock.advance(minutes=1)  # 09:20; the holding statement was due 09:30 (SEV2: 30 min)
    holding.publish(ref, statement_id, team.spokes)
    clock.advance(minutes=10)  # 09:30; assess-and-classify (active since 09:17, due 09:27) is not done

    score = api_client(team.viewer).get(f"/api/v1/incidents/{ref}/score").get_json()
    # By hand: three steps fell due; gather-facts was done 2 min late, assess-and-classify is not
    # done, the holding statement was published 10 min early: 1 of 3 on time.
    assert score["on_time_share"] == 1 / 3
    assert [(s["key"], s["due_at"], s["completed_at"], s["on_time"], s["late_seconds"]) for s in score["steps"]] == [
        ("gather-facts", (start + timedelta(minutes=15)).isoformat(), (start + timedelta(minutes=17)).isoformat(), False, 120),
        ("assess-and-classify", (start + timedelta(minutes=27)).isoformat(), None, False, None),
        ("holding-statement", (start + timedelta(minutes=30)).isoformat(), (start + timedelta(minutes=20)).isoformat(), True, None),
    ]
    assert score["first_acknowledgement_seconds"] == 180
    assert score["holding_statement_approved_seconds"] == 19 * 60
    assert score["holding_statement_published_seconds"] == 20 * 60
    assert [(a["role"], a["person"], a["seconds_to_sign"]) for a in score["approvers"]] == [
        ("legal", team.legal, 0), ("marketing", team.marketing, 0)]
    assert [(p["email"], p["roles"]) for p in score["participants"]] == [
        (team.lead, ["triage-lead"]), (team.legal, ["legal"]), (team.marketing, ["marketing"]),
        (team.social, []), (team.spokes, ["spokesperson"]),
    ]

    # Ending the drill counts as practice for the roles played.
    assert api_client(team.lead).post(f"/api/v1/incidents/{ref}/drill/end").status_code == 200
    with app.app_context():
        practised = {(c.person.email, c.course_key) for c in db.session.scalars(
            select(TrainingCompletion).where(TrainingCompletion.source == "drill"))}
    assert practised == {(team.legal, "legal-marketing-approval"), (team.marketing, "legal-marketing-approval"),
                         (team.spokes, "spokesperson")}


def test_drill_traffic_reaches_only_webhooks_flagged_for_drills(app, team, synced, api_client, clock):
    with app.app_context():
        plain = add_webhook(name="ops", url="https://hooks.example.com/ops", allow_private=True)
        practice = add_webhook(name="practice", url="https://hooks.example.com/drills", drills=True, allow_private=True)
        db.session.commit()
        plain_id, practice_id = plain.id, practice.id
    _start(api_client, team)
    clock.advance(minutes=10)
    _sweep(app)
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.channel == "webhook")).all()
    assert rows and {r.webhook_id for r in rows} == {practice_id}
    assert plain_id not in {r.webhook_id for r in rows}
    assert all(r.subject.startswith("[DRILL] ") for r in rows)


def test_the_cli_starts_scores_and_ends_a_drill(app, team, synced, runner, clock):
    started = runner.invoke(args=["drills", "start", "wrong-price-ad", "--as", team.lead])
    assert started.exit_code == 0, started.output
    ref = started.output.strip().splitlines()[-1]
    assert ref.startswith("INC-")
    clock.advance(minutes=5)
    assert "injects posted: 1" in runner.invoke(args=["drills", "sweep"]).output
    scored = runner.invoke(args=["drills", "score", ref])
    assert scored.exit_code == 0 and "on time: 0%" in scored.output
    ended = runner.invoke(args=["drills", "end", ref, "--as", team.lead])
    assert ended.exit_code == 0 and "ended early" in ended.output
    with app.app_context():
        run = db.session.scalar(select(DrillRun))
        assert run.ended_early and [i.posted_at is not None for i in run.injects] == [True, False, False]


def test_bad_drill_requests_are_refused_and_start_nothing(app, team, synced, api_client, runner, count):
    lead = api_client(team.lead)
    unknown = lead.post("/api/v1/drills", json={"scenario": "alien-invasion"})
    assert (unknown.status_code, unknown.get_json()["error"]["field"]) == (404, "scenario")
    assert lead.post("/api/v1/drills", json={}).get_json()["error"]["field"] == "scenario"
    assert api_client(team.viewer).post("/api/v1/drills", json={"scenario": "kettle-complaint"}).status_code == 403
    result = runner.invoke(args=["drills", "start", "alien-invasion", "--as", team.lead])
    assert result.exit_code != 0 and "No drill scenario 'alien-invasion'" in result.output
    assert count(DrillRun) == 0 and count(DrillInject) == 0
    real = lead.post("/api/v1/incidents", json={"playbook": "viral-complaint", "title": "Real one", "severity": "SEV3"})
    ref = real.get_json()["ref"]
    assert lead.post(f"/api/v1/incidents/{ref}/drill/end").status_code == 404
    assert lead.get(f"/api/v1/incidents/{ref}/score").status_code == 200


def test_the_drills_page_starts_a_drill_and_the_report_shows_the_score(app, team, synced, client, login, clock):
    login(team.lead)
    page = client.get("/drills").get_data(as_text=True)
    assert "A kettle complaint goes viral" in page and "Never run yet." in page
    started = client.post("/drills/start", data={"scenario": "kettle-complaint"})
    assert started.status_code == 302
    ref = started.headers["Location"].rsplit("/", 1)[-1]
    report = client.get(f"/incidents/{ref}/drill-report").get_data(as_text=True)
    assert "End the drill now" in report and "0% of steps on time" in report
    ended = client.post(f"/incidents/{ref}/drill/end", follow_redirects=True).get_data(as_text=True)
    assert "Drill ended early" in ended and "This is the first completed run of this scenario." in ended


def test_the_drills_page_refuses_a_bad_start_or_end_and_says_why_where_it_was(app, team, synced, client, login, count):
    login(team.lead)
    refused = client.post("/drills/start", data={"scenario": "alien-invasion"})
    assert (refused.status_code, refused.headers["Location"]) == (302, "/drills")
    page = client.get("/drills").get_data(as_text=True)
    assert "The drill did not start: " in page and "alien-invasion" in page
    assert count(DrillRun) == 0 and count(DrillInject) == 0
    ref = client.post("/drills/start", data={"scenario": "kettle-complaint"}).headers["Location"].rsplit("/", 1)[-1]
    login(team.social)
    not_theirs = client.post(f"/incidents/{ref}/drill/end")
    assert (not_theirs.status_code, not_theirs.headers["Location"]) == (302, f"/incidents/{ref}/drill-report")
    assert "The drill did not end: " in client.get(f"/incidents/{ref}/drill-report").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(DrillRun.ended_at)) is None
