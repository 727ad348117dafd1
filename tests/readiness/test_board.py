"""The readiness board and the readiness warning on declaring a SEV1/SEV2."""

from __future__ import annotations

from datetime import date

from crisis.extensions import db
from crisis.incidents.service import get_incident, incident_warnings
from crisis.people.service import get_person
from crisis.readiness.board import role_readiness
from crisis.readiness.maturity import maturity
from crisis.training import service as training


def _train(app, email: str, course: str) -> None:
    with app.app_context():
        training.record_completion(person=get_person(email), course_key=course, completed_on=date(2026, 11, 1),
                                   source="cli")
        db.session.commit()


def test_declaring_sev2_warns_when_a_needed_role_has_nobody_ready(app, team, synced, api_client):
    lead = api_client(team.lead)
    declared = lead.post("/api/v1/incidents", json={"playbook": "viral-complaint", "title": "Kettle", "severity": "SEV2"})
    warning = next(w for w in declared.get_json()["warnings"] if w.startswith("Nobody is ready"))
    assert "spokesperson" in warning and "legal" in warning and "marketing" in warning
    with app.app_context():
        assert warning in incident_warnings(get_incident(declared.get_json()["ref"]))
    page = api_client(team.lead).get(f"/api/v1/incidents/{declared.get_json()['ref']}/timeline").get_json()
    assert page["events"][0]["data"]["readiness_warning"] == warning


def test_no_readiness_warning_once_every_role_is_ready_or_below_sev2(app, team, synced, api_client):
    for email, course in [(team.spokes, "spokesperson"), (team.legal, "legal-marketing-approval"),
                          (team.marketing, "legal-marketing-approval"), (team.social, "community-moderator"),
                          (team.care, "community-moderator")]:
        _train(app, email, course)
    lead = api_client(team.lead)
    sev2 = lead.post("/api/v1/incidents", json={"playbook": "viral-complaint", "title": "Kettle", "severity": "SEV2"})
    assert not any(w.startswith("Nobody is ready") for w in sev2.get_json().get("warnings", []))
    sev3 = lead.post("/api/v1/incidents", json={"playbook": "viral-complaint", "title": "Kettle", "severity": "SEV3"})
    assert not any(w.startswith("Nobody is ready") for w in sev3.get_json().get("warnings", []))


def test_a_drill_never_carries_the_warning(app, team, synced, api_client):
    drill = api_client(team.lead).post("/api/v1/drills", json={"scenario": "kettle-complaint"}).get_json()
    with app.app_context():
        assert not any(w.startswith("Nobody is ready") for w in incident_warnings(get_incident(drill["ref"])))


def test_role_readiness_counts_trained_reachable_and_drilled(app, team, synced):
    _train(app, team.spokes, "spokesperson")
    with app.app_context():
        person = get_person(team.legal)
        person.notify_email = person.notify_in_app = False
        db.session.commit()
        roles = {r.role: r for r in role_readiness()}
        assert roles["spokesperson"].ready_count == 1
        legal = roles["legal"].holders[0]
        assert (legal.trained, legal.reachable, legal.ready) == (False, False, False)
        triage = roles["triage-lead"]  # no course names it: reachable is enough
        assert triage.ready_count == 2 and not any(h.drilled for h in triage.holders)


def test_the_board_page_and_the_maturity_rule(app, team, synced, client, login):
    with app.app_context():
        overall, dimensions = maturity()
    assert overall == "casual"
    assert {d.name: d.level for d in dimensions} == {
        "content": "casual", "delivery": "casual", "participants": "casual", "measurement": "casual"}
    login(team.exec)
    page = client.get("/readiness").get_data(as_text=True)
    assert "Maturity: Casual" in page and "Spokesperson" in page and "Never" in page
    login(team.viewer)
    assert client.get("/readiness").status_code == 200


def test_the_maturity_rule_climbs_to_formal(app, team, synced, tmp_path, api_client):
    from crisis.people.service import role_holders
    from crisis.playbooks.service import definition_of, list_playbooks
    from crisis.policy.service import acknowledge_policy, publish_policy

    with app.app_context():
        roles = sorted({s.role for v in list_playbooks() for s in definition_of(v).steps})
    (tmp_path / "all.yaml").write_text(
        f"key: everything\ntitle: Everything\nroles: [{', '.join(roles)}]\nvalid_days: 365\nmaterial: All of it.\n"
    )
    app.config["TRAINING_DIR"] = str(tmp_path)

    def levels() -> tuple[str, dict[str, str]]:
        with app.app_context():
            overall, dimensions = maturity()
            return overall, {d.name: d.level for d in dimensions}

    with app.app_context():
        publish_policy(body="# Policy", actor=None)
        db.session.commit()
        for email in {p.email for role in roles for p in role_holders(role)}:
            training.record_completion(person=get_person(email), course_key="everything",
                                       completed_on=date(2026, 11, 1), source="cli")
        for email, *_ in team.MEMBERS:
            acknowledge_policy(person=get_person(email), number=1)
        db.session.commit()
    assert levels() == ("casual", {"content": "formal", "delivery": "structured", "participants": "formal",
                                   "measurement": "casual"})

    def drill() -> None:
        from crisis.incidents.service import complete_step

        ref = api_client(team.lead).post("/api/v1/drills", json={"scenario": "kettle-complaint"}).get_json()["ref"]
        with app.app_context():
            complete_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(team.lead))
            db.session.commit()
        assert api_client(team.lead).post(f"/api/v1/incidents/{ref}/drill/end").status_code == 200

    drill()
    assert levels() == ("structured", {"content": "formal", "delivery": "formal", "participants": "formal",
                                       "measurement": "structured"})
    drill()
    assert levels()[0] == "formal"
