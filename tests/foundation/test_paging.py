"""Probe finding 9: every API list pages with limit and an opaque cursor, and nothing is left out."""

from __future__ import annotations

import pytest

from crisis.extensions import db


@pytest.fixture
def many_incidents(app, team, incident_factory):
    """Seven incidents declared at the same moment (their order falls back to the id)."""
    refs = []
    for number in range(7):
        refs.append(incident_factory(title=f"Incident {number}", severity="SEV4"))
    return refs


def _walk(client, path: str, key: str, limit: int) -> list[dict]:
    """Follow next_cursor from the first page to the end; return every item."""
    items, cursor, pages = [], None, 0
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.json
        page = response.json
        assert len(page[key]) <= limit
        items += page[key]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert pages < 100


def test_incidents_page_to_the_end_without_gaps_or_repeats(many_incidents, team, api_client):
    viewer = api_client(team.viewer)
    walked = _walk(viewer, "/api/v1/incidents?status=all", "incidents", 3)
    assert sorted(i["ref"] for i in walked) == sorted(many_incidents)
    whole = viewer.get("/api/v1/incidents?status=all").json
    assert whole["next_cursor"] is None and len(whole["incidents"]) == 7


def test_a_timeline_pages_oldest_first(many_incidents, team, api_client):
    viewer = api_client(team.viewer)
    ref = many_incidents[0]
    whole = viewer.get(f"/api/v1/incidents/{ref}/timeline").json["events"]
    assert len(whole) >= 2
    assert _walk(viewer, f"/api/v1/incidents/{ref}/timeline", "events", 1) == whole


@pytest.mark.parametrize("path, key", [
    ("/api/v1/playbooks", "playbooks"), ("/api/v1/alerts", "alerts"), ("/api/v1/holding-statements", "holding_statements"),
])
def test_every_other_list_answers_next_cursor(synced, team, api_client, path, key):
    viewer = api_client(team.viewer)
    whole = viewer.get(path).json
    assert whole["next_cursor"] is None
    assert _walk(viewer, path, key, 2) == whole[key]


def test_statements_page_too(app, team, incident_factory, api_client):
    ref = incident_factory()
    social = api_client(team.social)
    for number in range(3):
        assert social.post(f"/api/v1/incidents/{ref}/statements",
                           json={"platform": "x", "body": f"Statement {number}", "submit": False}).status_code == 201
    walked = _walk(api_client(team.viewer), f"/api/v1/incidents/{ref}/statements", "statements", 2)
    assert [s["body"] for s in walked] == ["Statement 0", "Statement 1", "Statement 2"]


def test_more_than_the_old_cap_of_a_hundred_alerts_are_reachable(app, team, synced, api_client):
    from crisis.alerts.models import Alert

    with app.app_context():  # plain rows: intake's own rules are tested elsewhere
        for number in range(105):
            db.session.add(Alert(intake="report", dedup_key=f"k{number}", title=f"Alert {number}", severity="SEV4"))
        db.session.commit()
    viewer = api_client(team.viewer)
    assert len(_walk(viewer, "/api/v1/alerts", "alerts", 500)) == 105
    walked = _walk(viewer, "/api/v1/alerts", "alerts", 40)
    assert len({a["id"] for a in walked}) == 105


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=" + "9" * 5000, "limit"),
    ("cursor=nonsense", "cursor"), ("cursor=eyJvIjotMX0", "cursor"), ("cursor=eyJvIjoiYSJ9", "cursor"),
    ("cursor=eyJvIjozfQ", "cursor"),  # an old offset cursor ({"o": 3}) is no longer one this API gives out
    ("cursor=WzFd.", "cursor"), ("cursor=%00", "cursor"), ("cursor=" + "A" * 5000, "cursor"),
])
def test_a_bad_limit_or_cursor_is_a_400_naming_it(team, synced, api_client, query, field):
    for path in ("/api/v1/incidents", "/api/v1/playbooks"):
        response = api_client(team.viewer).get(f"{path}?{query}")
        assert response.status_code == 400
        assert response.json["error"]["field"] == field


# ---------------------------------------------------------------- keyset cursors


def _page(client, path: str, limit: int, cursor: str | None = None) -> dict:
    response = client.get(f"{path}?status=all&limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
    assert response.status_code == 200, response.json
    return response.json


def test_incidents_declared_between_two_pages_neither_repeat_nor_push_a_row_out(many_incidents, team, api_client,
                                                                               incident_factory, clock):
    viewer = api_client(team.viewer)
    first = _page(viewer, "/api/v1/incidents", 3)
    # Two newer incidents arrive at the top of the newest-first list while the client reads.
    clock.advance(minutes=1)
    incident_factory(title="Arrived while paging", severity="SEV4")
    incident_factory(title="Also arrived", severity="SEV4")
    refs = [i["ref"] for i in first["incidents"]]
    cursor = first["next_cursor"]
    while cursor:
        page = _page(viewer, "/api/v1/incidents", 3, cursor)
        refs += [i["ref"] for i in page["incidents"]]
        cursor = page["next_cursor"]
    assert len(refs) == len(set(refs)) == 7, "each incident that existed at the first page is seen once"
    assert sorted(refs) == sorted(many_incidents)


def test_alerts_arriving_between_two_pages_are_not_repeated(app, team, synced, api_client, clock):
    from crisis.alerts.models import Alert

    def add(names):
        with app.app_context():
            for name in names:
                db.session.add(Alert(intake="report", dedup_key=name, title=name, severity="SEV4"))
            db.session.commit()

    add([f"old {n}" for n in range(5)])
    viewer = api_client(team.viewer)
    first = viewer.get("/api/v1/alerts?limit=2").json
    clock.advance(minutes=1)
    add(["new 1", "new 2"])
    second = viewer.get(f"/api/v1/alerts?limit=2&cursor={first['next_cursor']}").json
    third = viewer.get(f"/api/v1/alerts?limit=2&cursor={second['next_cursor']}").json
    titles = [a["title"] for page in (first, second, third) for a in page["alerts"]]
    assert len(titles) == len(set(titles)) == 5
    assert third["next_cursor"] is None


def test_a_timeline_page_continues_after_its_last_event(many_incidents, team, api_client, app):
    from crisis.incidents.service import get_incident
    from crisis.timeline.service import record

    viewer = api_client(team.viewer)
    ref = many_incidents[0]
    whole = viewer.get(f"/api/v1/incidents/{ref}/timeline").json["events"]
    first = viewer.get(f"/api/v1/incidents/{ref}/timeline?limit=1").json
    with app.app_context():
        record(incident_id=get_incident(ref).id, kind="note", summary="Added while paging")
        db.session.commit()
    rest = _walk(viewer, f"/api/v1/incidents/{ref}/timeline?cursor={first['next_cursor']}", "events", 50)
    assert first["events"] + rest[: len(whole) - 1] == whole
    assert rest[-1]["summary"] == "Added while paging"


def test_a_tampered_cursor_or_one_from_another_list_is_a_400_and_changes_nothing(many_incidents, team, api_client):
    viewer = api_client(team.viewer)
    cursor = _page(viewer, "/api/v1/incidents", 2)["next_cursor"]
    payload, _, signature = cursor.rpartition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (f"{payload}.{flipped}", f"WzEsMl0.{signature}", cursor[:-3]):
        response = viewer.get(f"/api/v1/incidents?status=all&limit=2&cursor={bad}")
        assert response.status_code == 400 and response.json["error"]["field"] == "cursor", bad
        assert "next_cursor" in response.json["error"]["message"]
    elsewhere = viewer.get(f"/api/v1/alerts?cursor={cursor}")
    assert elsewhere.status_code == 400 and elsewhere.json["error"]["field"] == "cursor"
    assert _page(viewer, "/api/v1/incidents", 2, cursor)["incidents"], "the real cursor still works"
