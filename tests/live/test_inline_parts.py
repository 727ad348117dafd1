"""A poll that says which stamps the page shows gets the moved parts in its answer: one request per change."""

from __future__ import annotations


def _poll(client, shown: dict[str, str], etag: str | None = None):
    query = "&".join(f"k={key}&h={stamp}" for key, stamp in shown.items())
    return client.get(f"/live?{query}", headers={"If-None-Match": etag} if etag else {})


def test_a_moved_part_comes_in_the_answer_and_an_unmoved_one_does_not(app, client, login, team, incident_factory,
                                                                       api_client):
    app.config["LIVE_SHARED_MAX_AGE"] = 0  # no young render stands in for the new stamp here
    ref = incident_factory()
    login(team.social)
    steps, events = f"incident:{ref}", f"events:{ref}"
    first = _poll(client, {steps: "", events: "", "bell": ""})
    assert first.status_code == 200
    stamps, parts = first.json["stamps"], first.json["parts"]
    assert set(parts) == {steps, events, "bell"}  # the page showed nothing yet
    assert f'data-live-stamp="{stamps[steps]}"' in parts[steps] and 'id="steps"' in parts[steps]
    assert f'data-live-stamp="{stamps[events]}"' in parts[events] and 'id="recent-events"' in parts[events]

    same = _poll(client, stamps)
    assert same.status_code == 200 and same.json["parts"] == {}  # no If-None-Match: stamps, but nothing to show
    assert _poll(client, stamps, etag=same.headers["ETag"]).status_code == 304

    # A note moves the events, not the steps: only the events come in the answer.
    noted = api_client(team.lead).post(f"/api/v1/incidents/{ref}/notes", json={"text": "Reply drafted for review"})
    assert noted.status_code == 201, noted.json
    moved = _poll(client, stamps, etag=same.headers["ETag"])
    assert moved.status_code == 200
    assert set(moved.json["parts"]) == {events}
    assert "Reply drafted for review" in moved.json["parts"][events]
    assert f'data-live-stamp="{moved.json["stamps"][events]}"' in moved.json["parts"][events]


def test_view_only_watchers_get_the_shared_render_in_the_answer(app, team, incident_factory, renders):
    ref = incident_factory()
    key = f"incident:{ref}"
    answers = []
    for email in (team.exec, team.viewer):
        watcher = app.test_client()
        watcher.post("/login", data={"email": email, "password": "correct-horse-battery"})
        answers.append(_poll(watcher, {key: ""}).json["parts"][key])
    assert answers[0] == answers[1] and "csrf_token" not in answers[0]
    assert renders.count("incidents/_steps.html") == 1


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


def test_a_poll_watches_one_incident(client, login, team, incident_factory):
    first, second = incident_factory(), incident_factory(title="Second incident")
    login(team.lead)
    answer = client.get(f"/live?k=incident:{first}&k=events:{second}")
    assert answer.status_code == 422
    assert "one incident per poll" in answer.get_data(as_text=True)
    assert client.get(f"/live?k=incident:{first}&k=events:{first.lower()}").status_code == 200


def test_the_events_of_an_unknown_incident_are_a_404(client, login, team):
    login(team.exec)
    answer = client.get("/live/events/INC-1999-0001")
    assert answer.status_code == 404
    assert "INC-1999-0001" in answer.get_data(as_text=True)
