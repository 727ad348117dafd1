"""Probe finding 9: `flask --app crisis export PATH` writes everything, without secrets, as JSON Lines."""

from __future__ import annotations

import json

from crisis.extensions import db


def test_export_writes_every_kind_of_record_without_secrets(app, runner, team, incident_factory, api_client, tmp_path):
    ref = incident_factory()
    social = api_client(team.social)  # also creates an API token, which must not be exported
    assert social.post(f"/api/v1/incidents/{ref}/statements",
                       json={"platform": "x", "body": "We are aware.", "step": "holding-statement"}).status_code == 201
    with app.app_context():
        from crisis.alerts.models import Alert
        from crisis.audit import audit
        from crisis.incidents.service import change_incident, get_incident
        from crisis.people.service import get_person
        from crisis.reviews.service import ActionInput, write_review

        lead = get_person(team.lead)
        change_incident(incident=get_incident(ref), actor=lead, status="resolved", force_reason="handled")
        write_review(incident=get_incident(ref), actor=lead, what_happened="It spread.",
                     actions=[ActionInput("Rota", team.legal, "2026-12-05")])
        db.session.add(Alert(intake="report", dedup_key="k", title="Price wrong", severity="SEV3"))
        audit(actor=None, actor_label="cli", action="webhook.added", target="ops")
        db.session.commit()

    path = tmp_path / "everything.jsonl"
    result = runner.invoke(args=["export", str(path)])
    assert result.exit_code == 0, result.output
    assert "incident: 1 of 1" in result.output  # progress on the terminal
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["type"] == "export" and lines[0]["format"] == 1
    by_type: dict[str, list] = {}
    for record in lines[1:]:
        by_type.setdefault(record["type"], []).append(record)
    assert set(lines[0]["types"]) == set(by_type) | {"holding_statement", "spokesperson_authorisation"}
    [incident] = by_type["incident"]
    assert incident["ref"] == ref and incident["steps"] and incident["status"] == "resolved"
    [statement] = by_type["statement"]
    assert statement["versions"][0]["body"] == "We are aware." and statement["approvals"]
    [review] = by_type["review"]
    assert review["actions"][0]["description"] == "Rota" and review["versions"][0]["number"] == 1
    assert any(e["kind"] == "incident.declared" for e in by_type["timeline_event"])
    assert by_type["alert"][0]["title"] == "Price wrong"
    assert {p["email"] for p in by_type["person"]} >= {team.lead, team.viewer}
    assert any(r["role"] == "triage-lead" and r["primary"] == team.lead for r in by_type["roster"])
    assert by_type["audit_event"][0]["action"] == "webhook.added"
    text = path.read_text()
    for secret in ("password_hash", "token_hash", "session_version", "pbkdf2:", "scrypt:"):
        assert secret not in text
    assert social.token not in text


def test_export_of_an_empty_database(runner, tmp_path):
    path = tmp_path / "empty.jsonl"
    result = runner.invoke(args=["export", str(path)])
    assert result.exit_code == 0, result.output
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["type"] == "export"
