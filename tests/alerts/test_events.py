"""POST /api/v1/alerts/events with recorded PagerDuty Events API v2 payloads."""

from __future__ import annotations

import pytest

from crisis.alerts.models import Alert, AlertRateWindow
from crisis.incidents.models import Incident
from tests.support.alerts import AM, EVENTS, MONITOR, payload


def test_a_trigger_answers_as_the_events_api_and_opens_an_incident(intake, stored):
    response = intake.post(EVENTS, json=payload("events_trigger"))

    assert response.status_code == 202
    assert response.get_json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "price-monitor/instagram-ads/SKU-4471",
    }
    [ref] = stored.incident_refs()
    incident = stored.incident(ref)
    assert incident["playbook"]["key"] == "wrong-price"
    assert incident["severity"] == "SEV1"
    [alert] = stored.alerts()
    assert alert["rule"] == "price-monitor"
    assert alert["incident"] == ref
    received = stored.events(ref, "alert.received")
    assert len(received) == 1
    assert received[0]["actor"] == "events API"


def test_the_routing_key_is_the_token_when_no_header_is_sent(client, intake, stored):
    body = payload("events_trigger")
    body["routing_key"] = intake.token

    response = client.post(EVENTS, json=body)

    assert response.status_code == 202
    assert len(stored.incident_refs()) == 1


@pytest.mark.parametrize("routing_key", ["", "crisis_not-a-real-token"])
def test_without_a_valid_token_the_event_is_refused(client, intake, stored, routing_key):
    body = payload("events_trigger")
    body["routing_key"] = routing_key

    response = client.post(EVENTS, json=body)

    assert response.status_code == 401
    assert stored.count(Alert) == 0


def test_a_repeated_trigger_updates_the_incident_instead_of_opening_another(intake, stored):
    for _ in range(3):
        assert intake.post(EVENTS, json=payload("events_trigger")).status_code == 202

    [ref] = stored.incident_refs()
    assert len(stored.events(ref, "alert.received")) == 3
    assert stored.alerts()[0]["occurrences"] == 3


def test_acknowledge_and_resolve_land_on_the_timeline_and_leave_the_incident_open(intake, stored, clock):
    intake.post(EVENTS, json=payload("events_trigger"))
    clock.advance(minutes=5)
    assert intake.post(EVENTS, json=payload("events_acknowledge")).status_code == 202
    assert intake.post(EVENTS, json=payload("events_acknowledge")).status_code == 202
    clock.advance(minutes=5)
    response = intake.post(EVENTS, json=payload("events_resolve"))

    assert response.status_code == 202
    assert response.get_json()["dedup_key"] == "price-monitor/instagram-ads/SKU-4471"
    [ref] = stored.incident_refs()
    kinds = [e["kind"] for e in stored.events(ref, "alert.")]
    assert kinds == ["alert.received", "alert.acknowledged", "alert.resolved"]
    assert stored.incident(ref)["status"] == "declared"
    assert stored.alerts()[0]["state"] == "resolved"


def test_a_trigger_without_dedup_key_gets_one_back_and_the_same_key_dedups(intake, stored):
    first = intake.post(EVENTS, json=payload("events_trigger_without_dedup_key"))

    assert first.status_code == 202
    key = first.get_json()["dedup_key"]
    assert len(key) == 32
    repeat = payload("events_trigger_without_dedup_key")
    repeat["dedup_key"] = key
    assert intake.post(EVENTS, json=repeat).get_json()["dedup_key"] == key
    [alert] = stored.alerts()
    assert alert["occurrences"] == 2


def test_a_trigger_matching_a_pending_rule_waits_for_a_person(intake, stored):
    response = intake.post(EVENTS, json=payload("events_security_chatter"))

    assert response.status_code == 202
    [alert] = stored.alerts()
    assert alert["rule"] == "security-chatter"  # custom_details.topic matched by match_re
    assert alert["disposition"] == "pending"
    assert alert["playbook"] == "security-rumour"
    assert alert["severity"] == "SEV2"  # error -> SEV2
    assert stored.incident_refs() == []


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("events_missing_summary", "payload.summary"),
        ("events_missing_source", "payload.source"),
        ("events_bad_severity", "payload.severity"),
    ],
)
def test_bad_events_get_a_400_naming_the_field(intake, stored, name, field):
    response = intake.post(EVENTS, json=payload(name))

    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["field"] == field
    # Also readable by clients written for PagerDuty.
    assert body["status"] == "invalid event"
    assert body["errors"] == [body["error"]["message"]]
    assert stored.count(Alert) == 0
    assert stored.count(Incident) == 0


def test_a_summary_over_1024_characters_is_refused(intake, stored):
    body = payload("events_trigger")
    body["payload"]["summary"] = "s" * 1025

    response = intake.post(EVENTS, json=body)

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "payload.summary"
    body["payload"]["summary"] = "s" * 1024
    assert intake.post(EVENTS, json=body).status_code == 202


def test_a_dedup_key_over_255_characters_is_refused(intake, stored):
    body = payload("events_trigger")
    body["dedup_key"] = "k" * 256

    response = intake.post(EVENTS, json=body)

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "dedup_key"
    assert stored.count(Alert) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_action": "trigger", "dedup_key": "x"}, "payload"),
        ({"event_action": "resolve"}, "dedup_key"),
        ({"event_action": "explode", "dedup_key": "x"}, "event_action"),
        ({"dedup_key": "x"}, "event_action"),
    ],
)
def test_incomplete_events_are_refused(intake, stored, body, field):
    response = intake.post(EVENTS, json=body)

    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_an_acknowledge_for_an_unknown_key_is_accepted_and_changes_nothing(intake, stored):
    response = intake.post(EVENTS, json=payload("events_acknowledge"))

    assert response.status_code == 202
    assert stored.count(Alert) == 0


def test_a_body_over_512_kb_is_a_json_413(intake, stored):
    body = payload("events_trigger")
    body["payload"]["custom_details"]["blob"] = "x" * (513 * 1024)

    response = intake.post(EVENTS, json=body)

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert stored.count(Alert) == 0


def test_each_token_is_rate_limited_per_minute_across_both_endpoints(app, intake, stored, clock, team, api_client):
    app.config["ALERT_RATE_LIMIT"] = 3
    assert intake.post(EVENTS, json=payload("events_trigger")).status_code == 202
    assert intake.post(AM, json=payload("alertmanager_pending")).status_code == 200
    assert intake.post(EVENTS, json=payload("events_missing_summary")).status_code == 400  # counts too

    refused = intake.post(EVENTS, json=payload("events_trigger"))

    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert stored.alerts()[0]["occurrences"] == 1  # the refused call stored nothing
    # Another token has its own allowance.
    assert api_client(MONITOR, scope="alerts").post(EVENTS, json=payload("events_trigger")).status_code == 202
    clock.advance(minutes=1)
    assert intake.post(EVENTS, json=payload("events_trigger")).status_code == 202


def test_old_rate_windows_are_cleaned_up(app, intake, stored, clock):
    for _ in range(3):
        intake.post(EVENTS, json=payload("events_acknowledge"))
        clock.advance(minutes=4)

    assert stored.count(AlertRateWindow) == 2  # the first window (8 minutes old) is gone


def test_the_openapi_document_describes_both_intakes_with_a_token(client):
    document = client.get("/api/v1/openapi.json").get_json()

    events = document["paths"]["/api/v1/alerts/events"]["post"]
    alertmanager = document["paths"]["/api/v1/alerts/alertmanager"]["post"]
    assert "security" not in events  # the document-wide bearer requirement applies
    assert "202" in events["responses"]
    assert "summary" in document["components"]["schemas"]["EventPayload"]["properties"]
    assert "200" in alertmanager["responses"]
    assert "fingerprint" in document["components"]["schemas"]["AlertmanagerAlert"]["properties"]


def test_a_routing_key_token_records_its_use(app, client, intake, clock):
    from sqlalchemy import select

    from crisis.extensions import db
    from crisis.people.models import ApiToken

    body = payload("events_acknowledge")
    body["routing_key"] = intake.token
    clock.advance(minutes=3)

    assert client.post(EVENTS, json=body).status_code == 202

    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.scope == "alerts"))
        assert token.last_used_at == clock()


def test_a_routing_key_of_a_revoked_token_is_refused(app, client, intake, stored):
    from sqlalchemy import select

    from crisis.extensions import db
    from crisis.people.models import ApiToken
    from crisis.people.service import revoke_token

    with app.app_context():
        revoke_token(token_id=db.session.scalar(select(ApiToken.id).where(ApiToken.scope == "alerts")))
        db.session.commit()
    body = payload("events_trigger")
    body["routing_key"] = intake.token

    assert client.post(EVENTS, json=body).status_code == 401
    assert intake.post(EVENTS, json=payload("events_trigger")).status_code == 401
    assert stored.count(Alert) == 0
