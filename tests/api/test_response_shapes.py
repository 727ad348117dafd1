"""Every API endpoint's real answers, on a demo-seeded app, are exactly its declared response model.

The model is the one place each resource is shaped (and the OpenAPI document is generated from
it), so an answer with a field the model lacks, lacks one it declares, or has a value of another
type fails here. Each endpoint is called through HTTP as a client would, in the order a response
team would call them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from crisis.api.routing import ENDPOINTS
from crisis.demo import seed_demo
from crisis.extensions import db

PAYLOADS = Path(__file__).resolve().parent.parent / "alerts" / "payloads"


@pytest.fixture
def demo(app, synced):
    with app.app_context():
        seed_demo()
        db.session.commit()
    return app


@pytest.fixture
def checked(client):
    """Call an endpoint, check its answer against the declared model; remember which were called."""
    seen: set[tuple[str, str]] = set()
    documented = {(e.method, e.path): e for e in ENDPOINTS}

    def call(api, method: str, template: str, path: str | None = None, **kwargs) -> dict:
        endpoint = documented[(method, "/api/v1" + template)]
        response = getattr(api, method)("/api/v1" + (path or template), **kwargs)
        assert response.status_code == endpoint.status, (method, path, response.json)
        body = response.json
        model: type[BaseModel] = endpoint.response
        parsed = model.model_validate(body)
        # A round trip gives back exactly what was sent: no extra field, none missing, no coercion.
        assert parsed.model_dump(mode="json", exclude_unset=True) == body, (method, template)
        assert set(body) <= set(model.model_fields), (method, template, set(body) - set(model.model_fields))
        seen.add((method, endpoint.path))
        return body

    call.seen = seen
    return call


def test_every_endpoint_answers_its_declared_model(demo, api_client, checked):
    admin = api_client("admin@example.com")
    lead = api_client("comms.lead@example.com")
    legal, marketing = api_client("legal@example.com"), api_client("marketing@example.com")
    spokes = api_client("spokesperson@example.com")

    checked(admin, "get", "/me")
    playbooks = checked(admin, "get", "/playbooks")["playbooks"]
    assert playbooks
    checked(admin, "get", "/playbooks/{key}", f"/playbooks/{playbooks[0]['key']}")
    listed = checked(admin, "get", "/incidents", "/incidents?status=all")["incidents"]
    assert len(listed) == 2  # the demo's
    for incident in listed:
        checked(admin, "get", "/incidents/{ref}", f"/incidents/{incident['ref']}")
        checked(admin, "get", "/incidents/{ref}/timeline", f"/incidents/{incident['ref']}/timeline")
        checked(admin, "get", "/incidents/{ref}/statements", f"/incidents/{incident['ref']}/statements")

    declared = checked(lead, "post", "/incidents", json={
        "playbook": "viral-complaint", "title": "Kettle video", "severity": "SEV2",
        "links": [{"platform": "tiktok", "url": "https://www.tiktok.com/@a/video/1"}],
    })
    ref = declared["ref"]
    one = f"/incidents/{ref}"
    checked(lead, "patch", "/incidents/{ref}", one, json={"severity": "SEV1"})
    checked(lead, "post", "/incidents/{ref}/triage", f"{one}/triage", json={"answers": {"author": "troll"}})
    checked(lead, "post", "/incidents/{ref}/notes", f"{one}/notes", json={"text": "Customer called"})
    step = f"{one}/steps/gather-facts"
    checked(lead, "post", "/incidents/{ref}/steps/{key}/acknowledge", f"{step}/acknowledge", json={})
    checked(lead, "post", "/incidents/{ref}/steps/{key}/block", f"{step}/block", json={"reason": "waiting"})
    checked(lead, "post", "/incidents/{ref}/steps/{key}/unblock", f"{step}/unblock", json={})
    checked(lead, "post", "/incidents/{ref}/steps/{key}/assign", f"{step}/assign", json={"owner": "care@example.com"})
    checked(lead, "post", "/incidents/{ref}/steps/{key}/complete", f"{step}/complete", json={"note": "done"})
    checked(lead, "post", "/incidents/{ref}/steps/{key}/skip", f"{one}/steps/post-incident-review/skip",
            json={"reason": "not needed"})

    statements = f"{one}/statements"
    draft = checked(lead, "post", "/incidents/{ref}/statements", statements,
                    json={"platform": "x", "step": "holding-statement", "submit": False})
    sid = f"{statements}/{draft['id']}"
    template = "/incidents/{ref}/statements/{statement_id}"
    checked(lead, "patch", template, sid, json={"body": "We are aware and looking into it."})
    checked(lead, "post", template + "/submit", f"{sid}/submit")
    checked(legal, "post", template + "/approve", f"{sid}/approve", json={})
    checked(marketing, "post", template + "/approve", f"{sid}/approve", json={})
    checked(spokes, "post", template + "/publish", f"{sid}/publish", json={"url": "https://x.com/exampleco/status/7"})
    checked(admin, "get", template, sid)
    second = checked(lead, "post", "/incidents/{ref}/statements", statements, json={"platform": "x", "body": "Draft"})
    checked(legal, "post", template + "/reject", f"{statements}/{second['id']}/reject", json={"reason": "Too vague"})
    checked(admin, "get", "/holding-statements")

    intake = api_client("admin@example.com", scope="alerts")
    firing = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    checked(intake, "post", "/alerts/alertmanager", json=firing)
    checked(intake, "post", "/alerts/events", json={
        "event_action": "trigger", "payload": {"summary": "Mentions spike", "source": "listening", "severity": "critical"},
    })
    alerts = checked(admin, "get", "/alerts")["alerts"]
    assert alerts

    person = "/people/{email}/training"
    checked(admin, "post", person, "/people/legal@example.com/training",
            json={"course": "legal-marketing-approval", "completed_on": "2026-11-01", "evidence": "Workshop"})
    checked(admin, "get", person, "/people/legal@example.com/training")
    drill = checked(lead, "post", "/drills", json={"scenario": "kettle-complaint"})
    drill_ref = f"/incidents/{drill['ref']}"
    checked(admin, "get", "/incidents/{ref}/drill", f"{drill_ref}/drill")
    checked(lead, "post", "/incidents/{ref}/drill/end", f"{drill_ref}/drill/end", json={})
    checked(admin, "get", "/incidents/{ref}/score", f"{drill_ref}/score")

    with_models = {(e.method, e.path) for e in ENDPOINTS if e.response is not None}
    assert with_models - checked.seen == set()
    assert with_models, "no endpoint declares a response model"
