"""GET /api/v1/incidents/<ref> reuses its encoded answer only while the database's stamp holds.

The stamp comes from revision counters kept by database triggers, so every kind of write shows
at once: API actions, the escalation sweep, and even an UPDATE run by hand.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crisis.api.caching import stamped_answers
from crisis.extensions import db
from crisis.incidents import service


@pytest.fixture
def lead_api(team, synced, api_client):
    return api_client(team.lead)


def read(api, ref):
    response = api.get(f"/api/v1/incidents/{ref}")
    assert response.status_code == 200, response.json
    return response


def step_of(body, key):
    return next(step for step in body["steps"] if step["key"] == key)


def test_an_unchanged_incident_is_answered_from_the_cache(app, lead_api, incident_factory):
    ref = incident_factory()
    first = read(lead_api, ref)
    with app.app_context():
        cached = stamped_answers()
        assert len(cached) == 1
        # Prove the second answer is the cached one: plant a marker body under the same stamp.
        key, stamp = f"incident:{ref}", service.incident_stamp(ref)
        assert cached.get(key, stamp) == first.get_data()
        cached.put(key, stamp, b'{"planted": true}\n')
    assert read(lead_api, ref).json == {"planted": True}
    # Lower-case or padded references name the same cached answer.
    assert lead_api.get(f"/api/v1/incidents/{ref.lower()}").json == {"planted": True}


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
def test_any_write_to_what_the_answer_shows_changes_the_stamp(app, lead_api, incident_factory, statement, check):
    ref = incident_factory(links=[("tiktok", "https://www.tiktok.com/@someone/video/1")])
    before = read(lead_api, ref)
    assert not check(before.json)
    with app.app_context():
        stamp = service.incident_stamp(ref)
        db.session.execute(text(statement))
        db.session.commit()
        assert service.incident_stamp(ref) != stamp
    assert check(read(lead_api, ref).json)


def test_revision_triggers_count_every_update_of_a_row(app, incident_factory):
    ref = incident_factory()
    with app.app_context():
        def revision():
            return db.session.execute(text("SELECT revision FROM incidents WHERE ref = :ref"), {"ref": ref}).scalar()

        assert revision() == 0
        for summary in ("one", "two", "three"):
            db.session.execute(text("UPDATE incidents SET summary = :s WHERE ref = :ref"), {"s": summary, "ref": ref})
            db.session.commit()
        assert revision() == 3


def test_etag_answers_304_until_the_incident_changes(lead_api, incident_factory):
    ref = incident_factory()
    first = read(lead_api, ref)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"incident:')
    unchanged = lead_api.get(f"/api/v1/incidents/{ref}", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.get_data() == b""
    assert lead_api.post(f"/api/v1/incidents/{ref}/notes", json={"text": "no change to the answer"}).status_code < 300
    assert lead_api.patch(f"/api/v1/incidents/{ref}", json={"severity": "SEV1"}).status_code == 200
    changed = lead_api.get(f"/api/v1/incidents/{ref}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json["severity"] == "SEV1"


def test_an_unknown_incident_is_404_and_caches_nothing(app, lead_api, synced):
    response = lead_api.get("/api/v1/incidents/INC-2026-9999")
    assert response.status_code == 404
    assert response.json["error"]["field"] == "ref"
    with app.app_context():
        assert len(stamped_answers()) == 0


def test_the_cache_is_bounded(app):
    from crisis.api.caching import StampedAnswers

    cache = StampedAnswers(size=3)
    for number in range(5):
        cache.put(f"k{number}", "s", b"x")
    assert len(cache) == 3
    assert cache.get("k0", "s") is None
    assert cache.get("k4", "s") == b"x"
    assert cache.get("k4", "other stamp") is None


def test_deleting_and_inserting_links_by_hand_changes_the_stamp(app, lead_api, incident_factory):
    ref = incident_factory(links=[("tiktok", "https://www.tiktok.com/@someone/video/1"),
                                  ("x", "https://x.com/someone/status/2")])
    read(lead_api, ref)
    with app.app_context():
        stamps = {service.incident_stamp(ref)}
        # One delete and one insert leave the count as it was; one delete and one update leave
        # count + revisions as they were.
        db.session.execute(text("DELETE FROM incident_links WHERE platform = 'tiktok'"))
        db.session.execute(text(
            "INSERT INTO incident_links (incident_id, platform, url) SELECT id, 'y', 'https://y.example/3' FROM incidents"
        ))
        db.session.commit()
        stamps.add(service.incident_stamp(ref))
        db.session.execute(text("DELETE FROM incident_links WHERE platform = 'x'"))
        db.session.execute(text("UPDATE incident_links SET url = 'https://y.example/4'"))
        db.session.commit()
        stamps.add(service.incident_stamp(ref))
    assert len(stamps) == 3
    assert read(lead_api, ref).json["links"] == [{"platform": "y", "url": "https://y.example/4"}]
