"""The live poll: stamps move with every change, from any writer; unchanged answers cost no render."""

from __future__ import annotations

import pytest

from crisis.extensions import db
from crisis.live.stamps import steps_stamp
from crisis.people.service import get_person


@pytest.fixture
def act(app, team):
    def run(action, email=None):
        from crisis.incidents.service import get_incident
        from crisis.people.service import get_person

        with app.app_context():
            result = action(get_incident, get_person(email or team.lead))
            db.session.commit()
            return result

    return run


def _poll(client, *keys, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    return client.get("/live?" + "&".join(f"k={key}" for key in keys), headers=headers)


def test_unchanged_poll_is_a_304_without_rendering_and_each_change_moves_its_stamp(
    client, login, team, incident_factory, act, renders, clock
):
    from crisis.incidents.service import add_note, assign_step, complete_step
    from crisis.notifications.service import notify

    ref = incident_factory()
    login(team.social)
    keys = (f"incident:{ref}", f"events:{ref}", "board", "steps", "bell")
    first = _poll(client, *keys)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    renders.clear()
    again = _poll(client, *keys, etag=etag)
    assert again.status_code == 304 and again.get_data() == b""
    assert renders == []

    def moved(action, email=None) -> set[str]:
        nonlocal etag
        before = _poll(client, *keys).get_json()["stamps"]
        act(action, email)
        answer = _poll(client, *keys, etag=etag)
        assert answer.status_code == 200
        etag = answer.headers["ETag"]
        after = answer.get_json()["stamps"]
        return {key for key in keys if before[key] != after[key]}

    # A note changes the list of events, not the steps.
    assert moved(lambda get, me: add_note(incident=get(ref), actor=me, text="A note.")) == {f"events:{ref}", "board"}
    assert moved(lambda get, me: assign_step(incident=get(ref), step_key="gather-facts", actor=me,
                                             owner_email=team.social)) >= {f"incident:{ref}", f"events:{ref}", "steps"}
    assert "bell" in moved(lambda get, me: notify(recipients=[me], subject="Hello", body="Hi", incident=None,
                                                  dedup_key="poll-1", channels=("in_app",)), email=team.social)
    assert moved(lambda get, me: complete_step(incident=get(ref), step_key="gather-facts", actor=me),
                 email=team.social) >= {f"incident:{ref}", f"events:{ref}", "steps", "board"}
    # "Due in 3 min" texts age with nothing written: the next tick moves the stamps.
    before = _poll(client, *keys).get_json()["stamps"]
    clock.advance(minutes=1)
    after = _poll(client, *keys).get_json()["stamps"]
    assert {key for key in keys if before[key] != after[key]} == {f"incident:{ref}", f"events:{ref}", "steps", "board"}


def test_fragments_answer_304_for_the_stamp_the_viewer_has(client, login, team, incident_factory, renders):
    ref = incident_factory()
    login(team.lead)
    for path in (f"/live/incident/{ref}", "/live/board", "/live/my-steps", "/live/bell"):
        first = client.get(path)
        assert first.status_code == 200, path
        assert 'data-live="' in first.get_data(as_text=True)
        renders.clear()
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        assert not [name for name in renders if not name.startswith("notifications/")], path


def test_view_only_viewers_share_one_render_of_an_unchanged_incident(app, team, incident_factory, make_person,
                                                                      login, renders):
    ref = incident_factory()
    make_person("watcher@example.com", permissions=["view"])
    for email in (team.exec, "watcher@example.com", team.exec):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": "correct-horse-battery"})
        fragment = client.get(f"/live/incident/{ref}")
        assert fragment.status_code == 200
        assert "csrf_token" not in fragment.get_data(as_text=True)
    assert renders.count("incidents/_steps.html") == 1


def test_a_shared_render_this_young_stands_in_for_a_newer_stamp_and_the_page_asks_again(
        app, team, incident_factory, api_client, renders):
    ref = incident_factory()
    viewer = app.test_client()
    viewer.post("/login", data={"email": team.exec, "password": "correct-horse-battery"})
    first = viewer.get(f"/live/events/{ref}")
    assert first.status_code == 200
    noted = api_client(team.lead).post(f"/api/v1/incidents/{ref}/notes", json={"text": "Second post spotted"})
    assert noted.status_code == 201, noted.json
    moved = viewer.get(f"/live?k=events:{ref}").json["stamps"][f"events:{ref}"]
    assert moved != first.headers["ETag"].strip('"')

    renders.clear()
    app.config["LIVE_SHARED_MAX_AGE"] = 3600  # the first render is still young
    young = viewer.get(f"/live/events/{ref}")
    assert young.headers["ETag"] == first.headers["ETag"]  # under its own stamp: the page asks again
    assert "Second post spotted" not in young.get_data(as_text=True)
    assert "incidents/_recent_events.html" not in renders

    app.config["LIVE_SHARED_MAX_AGE"] = 0  # too old now: rendered afresh, once
    fresh = viewer.get(f"/live/events/{ref}")
    assert fresh.headers["ETag"].strip('"') == moved
    assert "Second post spotted" in fresh.get_data(as_text=True)
    assert renders.count("incidents/_recent_events.html") == 1


def test_a_shared_fragment_reads_nothing_of_the_page_chrome(client, login, team, incident_factory, sql_statements):
    # Every render_template runs the context processors; the bell's count, its stamp and the
    # person's roles are shown only by whole pages, so a fragment must not read them.
    ref = incident_factory()
    login(team.lead)
    sql_statements.clear()
    response = client.get(f"/live/events/{ref}")
    assert response.status_code == 200 and f'data-live="events:{ref}"'.encode() in response.data
    read = [" ".join(statement.split()) for statement in sql_statements]
    assert not [s for s in read if "FROM notifications" in s], read
    assert not [s for s in read if s.startswith("SELECT role_memberships.")], read
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert 'id="bell-count"' in page and 'data-live-stamp=""' not in page


def test_responders_fragment_carries_their_actions(client, login, team, incident_factory):
    ref = incident_factory()
    login(team.lead)
    text = client.get(f"/live/incident/{ref}").get_data(as_text=True)
    assert "csrf_token" in text and "Complete" in text


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("", 422, "k="),
        ("k=weather", 422, "Unknown live part"),
        ("k=bell&k=bell", 422, "each once"),
        ("k=incident:INC-1999-0001", 404, "INC-1999-0001"),
        ("k=events:INC-1999-0001", 404, "INC-1999-0001"),
        ("k=events", 422, "Unknown live part"),
        ("&".join(["k=bell"] * 9), 422, "1 to 8"),
    ],
)
def test_bad_polls_are_refused_with_the_field_named(client, login, team, query, status, words):
    login(team.lead)
    answer = client.get("/live?" + query)
    assert answer.status_code == status
    assert words in answer.get_data(as_text=True)


def test_watching_needs_sign_in_and_the_board_needs_view(client, make_person, login):
    assert client.get("/live?k=bell").status_code == 302
    make_person("nobody@example.com", permissions=())
    login("nobody@example.com")
    assert client.get("/live?k=bell").status_code == 200
    refused = client.get("/live?k=board")
    assert refused.status_code == 403
    assert client.get("/live/board").status_code == 403
    assert client.get("/live/events/INC-1999-0001").status_code == 403  # may not view: told so before anything is looked up


def test_a_render_beyond_the_process_limit_is_told_to_come_back(app, client, login, team, incident_factory):
    from crisis.live.web import render_gate

    ref = incident_factory()
    login(team.lead)
    with app.app_context():
        gate = render_gate()
    assert gate.render(lambda: client.get(f"/live/incident/{ref}")).status_code == 503  # the only slot is taken
    answer = client.get(f"/live/incident/{ref}")
    assert answer.status_code == 200 and "Complete" in answer.get_data(as_text=True)
    # The lead's render is now shared; someone offered other actions needs a render of their own.
    other = app.test_client()
    other.post("/login", data={"email": team.social, "password": "correct-horse-battery"})
    busy = gate.render(lambda: other.get(f"/live/incident/{ref}"))
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"


def test_a_statement_waiting_for_approval_moves_the_approvers_steps_stamp(app, team, incident_factory, api_client,
                                                                            make_person):
    ref = incident_factory()
    # A legal backup owns no step of this incident: only the pending approval can move their stamp.
    make_person("legal.backup@example.com", permissions=["respond", "approve", "view"], roles=["legal:backup"])
    with app.app_context():
        approver = get_person("legal.backup@example.com")
        before = steps_stamp(person_id=approver.id)
    drafted = api_client(team.lead).post(f"/api/v1/incidents/{ref}/statements",
                                         json={"platform": "x", "body": "We are looking into it."})
    assert drafted.status_code == 201, drafted.json
    with app.app_context():
        assert steps_stamp(person_id=approver.id) != before


def test_a_tick_alone_reuses_the_shared_render_for_a_while_then_renders_again(
    app, client, login, team, incident_factory, renders, clock, monkeypatch
):
    import crisis.live.web as live_web

    ref = incident_factory()
    login(team.exec)
    first = client.get(f"/live/incident/{ref}")
    assert first.status_code == 200
    assert renders.count("incidents/_steps.html") == 1

    # The next tick: the same content, so the kept render stands for the new stamp (a 304 for
    # this viewer, who holds the same body) and nothing is rendered again.
    clock.advance(seconds=app.config.get("LIVE_TICK_SECONDS", 15))
    ticked = _poll(client, f"incident:{ref}").json["stamps"][f"incident:{ref}"]
    assert ticked != first.headers["ETag"].strip('"')
    again = client.get(f"/live/incident/{ref}")
    assert again.status_code == 200 and again.headers["ETag"].strip('"') == ticked
    assert renders.count("incidents/_steps.html") == 1
    # The page reads the stamp it shows back from the fragment: the new one, or it would ask again.
    assert f'data-live-stamp="{ticked}"' in again.get_data(as_text=True)

    # Past the grace (at most two ticks after the render), the part is rendered afresh.
    with app.app_context():
        kept = live_web.shared_renders()
    later = kept.now() + 2 * 15 + 1
    monkeypatch.setattr(kept, "now", lambda: later)
    clock.advance(seconds=15)
    client.get(f"/live/incident/{ref}")
    assert renders.count("incidents/_steps.html") == 2


def test_a_content_change_is_rendered_at_once_whatever_the_tick_grace(
    app, client, login, team, incident_factory, renders, api_client
):
    app.config["LIVE_SHARED_MAX_AGE"] = 0
    ref = incident_factory()
    login(team.exec)
    before = client.get(f"/live/incident/{ref}")
    changed = api_client(team.lead).patch(f"/api/v1/incidents/{ref}", json={"severity": "SEV1"})
    assert changed.status_code == 200, changed.json
    moved = _poll(client, f"incident:{ref}").json["stamps"][f"incident:{ref}"]
    assert moved != before.headers["ETag"].strip('"')
    after = client.get(f"/live/incident/{ref}")
    assert after.status_code == 200 and after.headers["ETag"].strip('"') == moved
    assert renders.count("incidents/_steps.html") == 2


def test_pages_say_how_often_to_poll_when_quiet_and_while_parts_keep_moving(app, client, login, team):
    login(team.exec)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-live-seconds="1"' in page and 'data-live-busy-seconds="1.5"' in page
    app.config["LIVE_BUSY_POLL_SECONDS"] = 3
    assert 'data-live-busy-seconds="3"' in client.get("/dashboard").get_data(as_text=True)
