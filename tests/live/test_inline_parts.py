"""A poll that says which stamps the page shows gets the moved parts in its answer: one request per change."""

from __future__ import annotations

import pytest
from flask import template_rendered


@pytest.fixture
def renders(app):
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)


def _poll(client, shown: dict[str, str], etag: str | None = None):
    query = "&".join(f"k={key}&h={stamp}" for key, stamp in shown.items())
    return client.get(f"/live?{query}", headers={"If-None-Match": etag} if etag else {})


def test_a_moved_part_comes_in_the_answer_and_an_unmoved_one_does_not(app, client, login, team, incident_factory,
                                                                       api_client):
    app.config["LIVE_SHARED_MAX_AGE"] = 0  # no young render stands in for the new stamp here
    ref = incident_factory()
    login(team.social)
    key = f"incident:{ref}"
    first = _poll(client, {key: "", "bell": ""})
    assert first.status_code == 200
    stamps, parts = first.json["stamps"], first.json["parts"]
    assert set(parts) == {key, "bell"}  # the page showed nothing yet
    assert f'data-live-stamp="{stamps[key]}"' in parts[key] and 'id="steps"' in parts[key]

    same = _poll(client, stamps)
    assert same.status_code == 200 and same.json["parts"] == {}  # no If-None-Match: stamps, but nothing to show
    assert _poll(client, stamps, etag=same.headers["ETag"]).status_code == 304

    noted = api_client(team.lead).post(f"/api/v1/incidents/{ref}/notes", json={"text": "Reply drafted for review"})
    assert noted.status_code == 201, noted.json
    moved = _poll(client, stamps, etag=same.headers["ETag"])
    assert moved.status_code == 200
    assert set(moved.json["parts"]) == {key}
    assert "Reply drafted for review" in moved.json["parts"][key]
    assert f'data-live-stamp="{moved.json["stamps"][key]}"' in moved.json["parts"][key]


def test_view_only_watchers_get_the_shared_render_in_the_answer(app, team, incident_factory, renders):
    ref = incident_factory()
    key = f"incident:{ref}"
    answers = []
    for email in (team.exec, team.viewer):
        watcher = app.test_client()
        watcher.post("/login", data={"email": email, "password": "correct-horse-battery"})
        answers.append(_poll(watcher, {key: ""}).json["parts"][key])
    assert answers[0] == answers[1] and "csrf_token" not in answers[0]
    assert renders.count("incidents/_live.html") == 1


def test_a_poll_without_stamps_answers_stamps_only_and_the_dashboard_is_fetched_by_its_url(
        client, login, team, incident_factory):
    incident_factory()
    login(team.lead)
    plain = client.get("/live?k=board&k=bell")
    assert plain.status_code == 200 and set(plain.json) == {"stamps"}
    shown = _poll(client, {"board": "", "bell": ""})
    assert set(shown.json["parts"]) == {"bell"}


def test_one_shown_stamp_per_part_or_none(client, login, team, incident_factory):
    ref = incident_factory()
    login(team.lead)
    answer = client.get(f"/live?k=incident:{ref}&k=bell&h=1.2.3")
    assert answer.status_code == 422
    assert "one h= (the stamp the page shows) per k=" in answer.get_data(as_text=True)
