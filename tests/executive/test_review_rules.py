"""Probe finding 5: the review requirement follows the highest severity the incident ever had."""

from __future__ import annotations

import pytest

from crisis.errors import Conflict


def test_lowering_a_resolved_sev1_does_not_let_it_close_without_a_review(app, team, desk, incident_factory, clock):
    from crisis.incidents.service import get_incident

    ref = incident_factory(severity="SEV1")
    clock.advance(hours=1)
    desk.resolve(ref)
    desk.change(ref, team.lead, severity="SEV4")
    with pytest.raises(Conflict, match="has been SEV1: write the post-incident review"):
        desk.change(ref, team.lead, status="closed")
    with app.app_context():
        assert get_incident(ref).status == "resolved"


def test_through_the_api_the_close_is_a_409_naming_the_status(team, desk, incident_factory, api_client, clock):
    ref = incident_factory(severity="SEV2")
    clock.advance(hours=1)
    desk.resolve(ref)
    lead = api_client(team.lead)
    assert lead.patch(f"/api/v1/incidents/{ref}", json={"severity": "SEV3"}).status_code == 200
    refused = lead.patch(f"/api/v1/incidents/{ref}", json={"status": "closed"})
    assert refused.status_code == 409
    assert refused.json["error"]["field"] == "status"
    assert lead.get(f"/api/v1/incidents/{ref}").json["status"] == "resolved"


def test_an_incident_that_was_never_sev1_or_sev2_closes_without_a_review(app, team, desk, incident_factory, clock):
    from crisis.incidents.service import get_incident

    ref = incident_factory(severity="SEV3")
    clock.advance(hours=1)
    desk.resolve(ref)
    desk.change(ref, team.lead, status="closed")
    with app.app_context():
        assert get_incident(ref).status == "closed"
