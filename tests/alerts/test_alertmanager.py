"""POST /api/v1/alerts/alertmanager with recorded Alertmanager (version 4) payloads."""

from __future__ import annotations

import pytest

from crisis.alerts.models import Alert
from crisis.incidents.models import Incident
from crisis.timeline.models import TimelineEvent
from tests.support.alerts import AM, payload


def test_a_firing_alert_opens_an_incident_routed_by_the_rules(intake, stored, team):
    response = intake.post(AM, json=payload("alertmanager_firing"))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "success"
    [outcome] = body["alerts"]
    assert outcome["fingerprint"] == "5b8d5a4a0b8f5e0c"
    assert outcome["disposition"] == "incident"
    [ref] = stored.incident_refs()
    assert outcome["incident"] == ref
    incident = stored.incident(ref)
    # Rule mention-spike: viral-complaint, severity mapped from the label critical -> SEV1.
    assert incident["playbook"]["key"] == "viral-complaint"
    assert incident["severity"] == "SEV1"
    assert incident["title"] == "Mentions of Example Co up 900% in 15 minutes on X"
    assert incident["triage_owner"] == team.lead
    kinds = [e["kind"] for e in stored.events(ref)]
    assert kinds[0] == "incident.declared"
    assert kinds.count("alert.received") == 1
    declared = stored.events(ref, "incident.declared")[0]
    assert declared["actor"] == "alertmanager"
    [alert] = stored.alerts()
    assert alert["rule"] == "mention-spike"
    assert alert["occurrences"] == 1
    assert alert["state"] == "firing"


def test_the_same_payload_five_times_is_one_incident(intake, stored):
    for _ in range(5):
        assert intake.post(AM, json=payload("alertmanager_firing")).status_code == 200

    [ref] = stored.incident_refs()
    [alert] = stored.alerts()
    assert alert["occurrences"] == 5
    received = stored.events(ref, "alert.received")
    assert len(received) == 5
    assert [e["data"]["occurrences"] for e in received] == [1, 2, 3, 4, 5]
    assert stored.count(Incident) == 1


def test_resolve_is_recorded_once_and_never_closes_the_incident(intake, stored, clock):
    intake.post(AM, json=payload("alertmanager_firing"))
    clock.advance(minutes=40)

    for _ in range(2):  # delivered at least once
        assert intake.post(AM, json=payload("alertmanager_resolved")).status_code == 200

    [ref] = stored.incident_refs()
    resolved = stored.events(ref, "alert.resolved")
    assert len(resolved) == 1
    assert resolved[0]["actor"] == "alertmanager"
    assert resolved[0]["data"]["dedup_key"] == "5b8d5a4a0b8f5e0c"
    assert stored.incident(ref)["status"] == "declared"
    [alert] = stored.alerts()
    assert alert["state"] == "resolved"
    assert alert["resolved_at"] == "2026-11-21T09:40:00+00:00"


def test_an_alert_firing_again_joins_its_still_open_incident(intake, stored):
    intake.post(AM, json=payload("alertmanager_firing"))
    intake.post(AM, json=payload("alertmanager_resolved"))

    intake.post(AM, json=payload("alertmanager_firing"))

    [ref] = stored.incident_refs()
    last = stored.events(ref, "alert.")[-1]
    assert last["kind"] == "alert.received"
    assert last["data"]["refired"] is True
    assert stored.alerts()[0]["state"] == "firing"


def test_after_the_incident_is_closed_the_same_alert_opens_a_new_one(app, intake, stored, team):
    from crisis.extensions import db
    from crisis.incidents.service import get_incident

    intake.post(AM, json=payload("alertmanager_firing"))
    [first] = stored.incident_refs()
    with app.app_context():
        # Closing is the incidents domain's business; the intake only asks is_open.
        get_incident(first).status = "closed"
        db.session.commit()

    response = intake.post(AM, json=payload("alertmanager_firing"))

    refs = stored.incident_refs()
    assert len(refs) == 2
    assert response.get_json()["alerts"][0]["incident"] == refs[1]
    old, new = stored.alerts()
    assert old["occurrences"] == 1 and old["incident"] == first
    assert new["incident"] == refs[1]


def test_a_new_alert_of_the_same_group_joins_the_open_incident(intake, stored):
    intake.post(AM, json=payload("alertmanager_firing"))

    response = intake.post(AM, json=payload("alertmanager_group_grows"))

    [ref] = stored.incident_refs()
    outcomes = response.get_json()["alerts"]
    assert [o["incident"] for o in outcomes] == [ref, ref]
    summaries = [e["summary"] for e in stored.events(ref, "alert.received")]
    assert summaries[-1].startswith("Alertmanager joined this incident: Mentions of Example Co up 600%")
    assert len(stored.alerts()) == 2


def test_an_alert_no_rule_matches_waits_as_a_pending_alert(intake, stored):
    response = intake.post(AM, json=payload("alertmanager_pending"))

    assert response.status_code == 200
    assert response.get_json()["alerts"][0]["disposition"] == "pending"
    assert stored.incident_refs() == []
    [alert] = stored.alerts()
    assert alert["rule"] == "default"
    assert alert["severity"] == "SEV3"  # warning -> SEV3
    assert alert["playbook"] == "viral-complaint"


def test_a_repeat_of_a_pending_alert_updates_it(intake, stored):
    for _ in range(3):
        intake.post(AM, json=payload("alertmanager_pending"))

    [alert] = stored.alerts()
    assert alert["occurrences"] == 3
    assert alert["disposition"] == "pending"


def test_a_resolve_for_an_unknown_alert_is_accepted_and_stores_nothing(intake, stored):
    response = intake.post(AM, json=payload("alertmanager_resolved"))

    assert response.status_code == 200
    assert response.get_json()["alerts"][0]["alert"] is None
    assert stored.alerts() == []


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("alertmanager_malformed_alert_status", "alerts.0.status"),
        ("alertmanager_malformed_no_alerts", "alerts"),
        ("alertmanager_malformed_version", "version"),
    ],
)
def test_malformed_payloads_get_a_400_naming_the_field_and_store_nothing(intake, stored, name, field):
    response = intake.post(AM, json=payload(name))

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(field)
    assert stored.alerts() == []
    assert stored.count(Incident) == 0
    assert stored.count(TimelineEvent) == 0


def test_labels_must_be_text(intake, stored):
    body = payload("alertmanager_firing")
    body["alerts"][0]["labels"]["severity"] = 3

    response = intake.post(AM, json=body)

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "alerts.0.labels.severity"
    assert stored.count(Alert) == 0


def test_not_json_is_a_400(intake):
    response = intake.post(AM, data=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "body"


def test_without_a_token_the_webhook_is_refused(client, synced, stored):
    response = client.post(AM, json=payload("alertmanager_firing"))

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert stored.count(Alert) == 0


def test_a_full_api_token_may_send_alerts_too(team, synced, api_client, stored):
    response = api_client(team.lead).post(AM, json=payload("alertmanager_firing"))

    assert response.status_code == 200
    assert len(stored.incident_refs()) == 1


def test_an_alerts_token_can_do_nothing_else(intake, stored):
    assert intake.get("/api/v1/incidents").status_code == 403
    assert intake.get("/api/v1/alerts").status_code == 403


def test_a_body_over_512_kb_is_a_json_413(intake, stored):
    body = payload("alertmanager_firing")
    body["alerts"][0]["annotations"]["description"] = "x" * (520 * 1024)

    response = intake.post(AM, json=body)

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert stored.count(Alert) == 0


def test_a_body_just_under_512_kb_is_accepted(intake, stored):
    body = payload("alertmanager_firing")
    body["alerts"][0]["annotations"]["description"] = "x" * (500 * 1024)

    assert intake.post(AM, json=body).status_code == 200


def test_payloads_recorded_from_alertmanager_0_25_open_and_resolve(intake, stored, team):
    # Recorded from Debian's prometheus-alertmanager 0.25 posting to a capture server.
    response = intake.post(AM, json=payload("alertmanager_recorded_firing"))

    assert response.status_code == 200
    [ref] = stored.incident_refs()
    incident = stored.incident(ref)
    assert incident["playbook"]["key"] == "account-takeover"  # rule brand-account-takeover
    assert incident["severity"] == "SEV1"
    assert incident["triage_owner"] == team.security  # the rule names the security role

    assert intake.post(AM, json=payload("alertmanager_recorded_resolved")).status_code == 200

    [resolved] = stored.events(ref, "alert.resolved")
    assert resolved["data"]["dedup_key"] == "d9a26e3d1a6f054d"
    assert stored.incident(ref)["status"] == "declared"


def test_the_alert_list_api_shows_what_each_became(intake, team, api_client):
    intake.post(AM, json=payload("alertmanager_firing"))
    intake.post(AM, json=payload("alertmanager_pending"))
    viewer = api_client(team.viewer)

    everything = viewer.get("/api/v1/alerts").get_json()["alerts"]
    pending = viewer.get("/api/v1/alerts?disposition=pending").get_json()["alerts"]

    assert [(a["rule"], a["disposition"], a["incident"]) for a in everything] == [
        ("default", "pending", None), ("mention-spike", "incident", "INC-2026-0001")]
    assert [a["rule"] for a in pending] == ["default"]
    bad = viewer.get("/api/v1/alerts?disposition=open")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "disposition"


def test_only_web_links_are_kept(intake, stored, app):
    body = payload("alertmanager_pending")
    body["alerts"][0]["generatorURL"] = "javascript:alert(document.cookie)"
    body["alerts"][0]["annotations"]["url"] = "https://www.facebook.com/exampleco/posts/1"

    intake.post(AM, json=body)

    from crisis.alerts.service import get_alert

    with app.app_context():
        assert get_alert(stored.alerts()[0]["id"]).links == [
            {"platform": "web", "url": "https://www.facebook.com/exampleco/posts/1"}]
