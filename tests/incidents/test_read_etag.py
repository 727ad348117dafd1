"""GET /api/v1/incidents/<ref> is read afresh each time; its ETag is a digest of the answer.

So every kind of write shows at once, and changes the ETag: API actions, the escalation sweep,
and even an UPDATE run by hand.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crisis.extensions import db


@pytest.fixture
def lead_api(team, synced, api_client):
    return api_client(team.lead)


def read(api, ref):
    response = api.get(f"/api/v1/incidents/{ref}")
    assert response.status_code == 200, response.json
    return response


def step_of(body, key):
    return next(step for step in body["steps"] if step["key"] == key)


def test_an_unchanged_incident_reads_the_same_whatever_the_case_of_its_reference(lead_api, incident_factory):
    ref = incident_factory()
    first = read(lead_api, ref)
    assert read(lead_api, ref).get_data() == first.get_data()
    assert read(lead_api, f" {ref.lower()} ").get_data() == first.get_data()
    assert read(lead_api, ref.lower()).headers["ETag"] == first.headers["ETag"]


def test_an_action_through_the_api_shows_at_once(lead_api, incident_factory, team, api_client):
    ref = incident_factory()
    before = read(lead_api, ref).json
    assert step_of(before, "gather-facts")["status"] == "active"
    owner = api_client(step_of(before, "gather-facts")["owner"])
    assert owner.post(f"/api/v1/incidents/{ref}/steps/gather-facts/complete", json={"note": "done"}).status_code == 200
    after = read(lead_api, ref).json
    assert step_of(after, "gather-facts")["status"] == "done"
    assert lead_api.patch(f"/api/v1/incidents/{ref}", json={"severity": "SEV1"}).status_code == 200
    assert read(lead_api, ref).json["severity"] == "SEV1"


@pytest.mark.parametrize(
    ("statement", "check"),
    [
        # What the escalation sweep does when it switches a step's escalation off: no event.
        ("UPDATE incident_steps SET next_escalation_at = NULL WHERE key = 'gather-facts'",
         lambda body: step_of(body, "gather-facts")["next_escalation_at"] is None),
        ("UPDATE incident_steps SET escalation_level = 2 WHERE key = 'gather-facts'",
         lambda body: step_of(body, "gather-facts")["escalation_level"] == 2),
        ("UPDATE incidents SET title = 'Changed by hand'", lambda body: body["title"] == "Changed by hand"),
        ("UPDATE incident_links SET url = 'https://example.com/changed'",
         lambda body: body["links"][0]["url"] == "https://example.com/changed"),
        ("DELETE FROM incident_links", lambda body: body["links"] == []),
        ("INSERT INTO incident_links (incident_id, platform, url) SELECT id, 'x', 'https://x.example/1' FROM incidents",
         lambda body: len(body["links"]) == 2),
    ],
    ids=["sweep-switches-escalation-off", "escalation-level", "incident", "link-updated", "link-deleted",
         "link-added"],
)
def test_any_write_to_what_the_answer_shows_changes_the_etag(app, lead_api, incident_factory, statement, check):
    ref = incident_factory(links=[("tiktok", "https://www.tiktok.com/@someone/video/1")])
    before = read(lead_api, ref)
    assert not check(before.json)
    with app.app_context():
        db.session.execute(text(statement))
        db.session.commit()
    after = lead_api.get(f"/api/v1/incidents/{ref}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert check(after.json)


def test_etag_answers_304_until_the_incident_changes(lead_api, incident_factory):
    ref = incident_factory()
    first = read(lead_api, ref)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    unchanged = lead_api.get(f"/api/v1/incidents/{ref}", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.get_data() == b""
    assert lead_api.post(f"/api/v1/incidents/{ref}/notes", json={"text": "no change to the answer"}).status_code < 300
    assert lead_api.patch(f"/api/v1/incidents/{ref}", json={"severity": "SEV1"}).status_code == 200
    changed = lead_api.get(f"/api/v1/incidents/{ref}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json["severity"] == "SEV1"


def test_an_unknown_incident_is_404_without_an_etag(app, lead_api, synced):
    response = lead_api.get("/api/v1/incidents/INC-2026-9999")
    assert response.status_code == 404
    assert response.json["error"]["field"] == "ref"
    assert "ETag" not in response.headers


def test_deleting_and_inserting_links_by_hand_changes_the_etag(app, lead_api, incident_factory):
    ref = incident_factory(links=[("tiktok", "https://www.tiktok.com/@someone/video/1"),
                                  ("x", "https://x.com/someone/status/2")])
    etags = {read(lead_api, ref).headers["ETag"]}
    with app.app_context():
        # One delete and one insert leave the count as it was; one delete and one update leave
        # the count as it was too.
        db.session.execute(text("DELETE FROM incident_links WHERE platform = 'tiktok'"))
        db.session.execute(text(
            "INSERT INTO incident_links (incident_id, platform, url) SELECT id, 'y', 'https://y.example/3' FROM incidents"
        ))
        db.session.commit()
    etags.add(read(lead_api, ref).headers["ETag"])
    with app.app_context():
        db.session.execute(text("DELETE FROM incident_links WHERE platform = 'x'"))
        db.session.execute(text("UPDATE incident_links SET url = 'https://y.example/4'"))
        db.session.commit()
    etags.add(read(lead_api, ref).headers["ETag"])
    assert len(etags) == 3
    assert read(lead_api, ref).json["links"] == [{"platform": "y", "url": "https://y.example/4"}]
