"""Per-object rules on top of system permissions: only a step's owner, the triage owner or a lead acts on it."""

from __future__ import annotations

from crisis.incidents.service import can_act_on_step, get_incident
from crisis.people.service import get_person
from crisis.timeline.service import events_for


def test_a_responder_cannot_complete_someone_elses_step(app, team, incident_factory, api_client):
    ref = incident_factory()
    url = f"/api/v1/incidents/{ref}/steps/gather-facts/complete"
    # Social holds 'respond' but the step is the triage lead's, and social leads nothing.
    refused = api_client(team.social).post(url, json={"note": "done it"})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    with app.app_context():
        incident = get_incident(ref)
        assert incident.step("gather-facts").status == "active"
        assert not events_for(incident.id, kinds=["step.completed"])
    # The owner may.
    assert api_client(team.lead).post(url, json={"note": "archived"}).status_code == 200


def test_the_triage_owner_may_act_on_any_step(app, team, incident_factory, api_client):
    ref = incident_factory()
    response = api_client(team.lead).post(f"/api/v1/incidents/{ref}/steps/holding-statement/acknowledge", json={})
    assert response.status_code == 200


def test_can_act_on_step_matches_owner_triage_owner_and_leads(app, team, incident_factory):
    ref = incident_factory()
    with app.app_context():
        incident = get_incident(ref)
        step = incident.step("holding-statement")
        allowed = {email: can_act_on_step(get_person(email), incident, step) for email in (
            team.spokes, team.lead, team.admin, team.social, team.care, team.legal, team.viewer)}
    assert allowed == {
        team.spokes: True, team.lead: True, team.admin: True,
        team.social: False, team.care: False, team.legal: False, team.viewer: False,
    }
