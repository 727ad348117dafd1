"""Idempotent writes: a repeat with the same Idempotency-Key writes nothing and gets the first answer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.timeline.models import TimelineEvent

DECLARE = {"playbook": "viral-complaint", "title": "Kettle video", "severity": "SEV3"}


@pytest.fixture
def count(app):
    def count(model) -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))

    return count


@pytest.fixture
def lead(team, synced, api_client):
    return api_client(team.lead)


def test_a_repeated_declaration_returns_the_first_answer_and_declares_once(lead, count):
    first = lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "declare-1"})
    assert first.status_code == 201
    again = lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "declare-1"})
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(Incident) == 1


def test_the_same_key_with_another_body_is_a_422_naming_the_header(lead, count):
    assert lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "k"}).status_code == 201
    other = lead.post("/api/v1/incidents", json={**DECLARE, "title": "Another"}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert other.json["error"]["field"] == "Idempotency-Key"
    assert count(Incident) == 1


def test_keys_belong_to_a_token(team, synced, api_client, count):
    first, second = api_client(team.lead), api_client(team.lead)
    assert first.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "k"}).status_code == 201
    assert second.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "k"}).status_code == 201
    assert count(Incident) == 2


def test_a_patch_is_idempotent_too(lead, incident_factory, count):
    ref = incident_factory()
    events = count(TimelineEvent)
    for _ in range(2):
        response = lead.patch(f"/api/v1/incidents/{ref}", json={"severity": "SEV1"}, headers={"Idempotency-Key": "p"})
        assert response.status_code == 200
    assert count(TimelineEvent) == events + 1


def test_a_refused_request_does_not_use_up_the_key(lead, incident_factory, count):
    ref = incident_factory()
    refused = lead.post(f"/api/v1/incidents/{ref}/notes", json={"text": ""}, headers={"Idempotency-Key": "n"})
    assert refused.status_code in (400, 422)
    again = lead.post(f"/api/v1/incidents/{ref}/notes", json={"text": ""}, headers={"Idempotency-Key": "n"})
    assert again.status_code == refused.status_code


def test_without_a_key_each_post_writes(lead, count):
    for _ in range(2):
        assert lead.post("/api/v1/incidents", json=DECLARE).status_code == 201
    assert count(Incident) == 2


@pytest.mark.parametrize("key", ["", "x" * 201, "caf\u00e9", "tab\there"], ids=["empty", "long", "non-ascii", "control"])
def test_a_malformed_key_is_a_400_naming_the_header(lead, count, key):
    response = lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")})
    assert response.status_code == 400
    assert response.json["error"]["field"] == "Idempotency-Key"
    assert count(Incident) == 0


def test_keys_are_kept_a_day_then_may_be_reused(lead, count, clock):
    assert lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "d"}).status_code == 201
    clock.advance(hours=23)
    assert lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "d"}).headers.get("Idempotent-Replayed")
    assert count(Incident) == 1
    clock.advance(hours=2)
    assert lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "other"}).status_code == 201
    assert lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "d"}).status_code == 201
    assert count(Incident) == 3


def test_a_saved_write_whose_answer_was_lost_is_not_written_again(app, lead, count):
    """The key was committed with the write but the answer never stored (the connection died)."""
    from crisis.api.idempotency import IdempotencyKey

    assert lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "lost"}).status_code == 201
    with app.app_context():
        row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "lost"))
        row.status, row.body = None, None
        db.session.commit()
    retry = lead.post("/api/v1/incidents", json=DECLARE, headers={"Idempotency-Key": "lost"})
    assert retry.status_code == 409
    assert retry.json["error"]["field"] == "Idempotency-Key"
    assert count(Incident) == 1


def test_a_refusal_answered_rather_than_raised_leaves_the_key_free(app, lead, incident_factory):
    """An endpoint that answers a 4xx itself (the alert intake's 429) must not pin that answer."""
    from flask import jsonify

    from crisis.api.idempotency import run_idempotently

    ref = incident_factory()
    calls = []

    def refusing_then_accepting():
        calls.append(1)
        return (jsonify({"error": {"code": "rate_limited", "message": "later"}}), 429) if len(calls) == 1 else ({"ok": True}, 201)

    with app.test_request_context(f"/api/v1/incidents/{ref}/notes", method="POST", json={"text": "x"},
                                  headers={"Idempotency-Key": "r"}):
        from flask import g

        from crisis.api.idempotency import IdempotencyKey
        from crisis.people.models import ApiToken

        g.api_token_id = db.session.scalar(select(ApiToken.id))
        assert run_idempotently(refusing_then_accepting).status_code == 429
        assert run_idempotently(refusing_then_accepting).status_code == 201
        assert run_idempotently(refusing_then_accepting).headers["Idempotent-Replayed"] == "true"
        assert len(calls) == 2
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
