"""Probe findings 1 and 2: deep JSON, NUL characters and out-of-range ids answer 4xx, never 500.

Each answer is the same on SQLite and PostgreSQL, names the field, and changes nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.statements.models import Statement
from crisis.timeline.models import TimelineEvent

DEEP = ("[" * 990 + "]" * 990).encode()
DEEP_OBJECT = ('{"a":' * 990 + "1" + "}" * 990).encode()
TOO_BIG = [2**31, 2**63, 10**30]


@pytest.fixture
def counts(app):
    """The number of incidents, statements and timeline events (to show nothing changed)."""

    def count() -> tuple[int, int, int]:
        with app.app_context():
            return tuple(db.session.scalar(select(func.count()).select_from(model))
                         for model in (Incident, Statement, TimelineEvent))

    return count


def _error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    if field is not None:
        assert error["field"] == field
    return error


# ---------------------------------------------------------------- finding 1: deep JSON


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deep_json_without_credentials_is_refused_not_a_server_error(client, body):
    response = client.post("/api/v1/alerts/events", data=body, content_type="application/json")
    _error(response, 401)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_deep_json_to_an_endpoint_is_a_400_naming_the_body(team, synced, api_client, counts, body):
    lead = api_client(team.lead)
    before = counts()
    _error(lead.post("/api/v1/incidents", data=body, content_type="application/json"), 400, "body")
    _error(lead.post("/api/v1/alerts/alertmanager", data=body, content_type="application/json"), 400, "body")
    assert counts() == before


def test_a_nul_in_the_sign_in_email_is_a_400_naming_it(client, make_person):
    make_person("casey@example.com")
    response = client.post("/login", data={"email": "casey\x00@example.com", "password": "whatever"})
    assert response.status_code == 400
    assert "email" in response.get_data(as_text=True)


# ---------------------------------------------------------------- finding 2: NUL characters


def test_a_nul_in_a_path_is_a_400_naming_it(team, api_client):
    viewer = api_client(team.viewer)
    _error(viewer.get("/api/v1/incidents/INC%00"), 400, "ref")
    _error(viewer.get("/api/v1/playbooks/viral%00complaint"), 400, "key")


def test_a_nul_in_the_query_is_a_400_naming_it(team, api_client):
    _error(api_client(team.viewer).get("/api/v1/incidents?severity=SEV1%00"), 400, "severity")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"playbook": "viral-complaint", "title": "Kettle\x00video", "severity": "SEV2"}, "title"),
        ({"playbook": "viral-complaint", "title": "Kettle", "severity": "SEV2", "summary": "\x00"}, "summary"),
        ({"playbook": "viral-complaint", "title": "Kettle", "severity": "SEV2",
          "links": [{"platform": "x", "url": "https://x.com/\x00"}]}, "links[0].url"),
        ({"playbook": "viral\x00complaint", "title": "Kettle", "severity": "SEV2"}, "playbook"),
    ],
    ids=["title", "summary", "link", "playbook"],
)
def test_a_nul_in_a_json_field_is_a_400_naming_it_and_stores_nothing(team, synced, api_client, counts, body, field):
    before = counts()
    _error(api_client(team.lead).post("/api/v1/incidents", json=body), 400, field)
    assert counts() == before


def test_a_nul_in_a_statement_body_is_refused_on_every_face(app, team, incident_factory, api_client, login, client, counts):
    ref = incident_factory()
    before = counts()
    _error(api_client(team.social).post(f"/api/v1/incidents/{ref}/statements",
                                        json={"platform": "x", "body": "We are \x00 aware"}), 400, "body")
    login(team.social)
    response = client.post(f"/incidents/{ref}/statements", data={"platform": "x", "body": "We are \x00 aware"})
    assert response.status_code == 400
    assert counts() == before


def test_a_nul_in_an_event_routing_key_is_refused(client):
    response = client.post("/api/v1/alerts/events", json={"routing_key": "abc\x00", "event_action": "trigger"})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"]


# ---------------------------------------------------------------- finding 2: integers out of range


@pytest.mark.parametrize("number", TOO_BIG)
def test_ids_beyond_the_column_range_are_not_found(team, incident_factory, api_client, login, client, number):
    ref = incident_factory()
    _error(api_client(team.viewer).get(f"/api/v1/incidents/{ref}/statements/{number}"), 404)
    login(team.lead)
    assert client.get(f"/alerts/{number}").status_code == 404
    assert client.get(f"/incidents/{ref}/statements/{number}").status_code == 404


@pytest.mark.parametrize("number", TOO_BIG)
def test_a_version_beyond_the_column_range_is_a_400_naming_it(team, synced, api_client, login, client, number):
    _error(api_client(team.viewer).get(f"/api/v1/playbooks/viral-complaint?version={number}"), 400, "version")
    login(team.viewer)
    assert client.get(f"/playbooks/viral-complaint?version={number}").status_code == 400


@pytest.mark.parametrize("number", TOO_BIG)
def test_a_holding_statement_beyond_the_column_range_is_a_400_naming_it(team, incident_factory, api_client, counts, number):
    ref = incident_factory()
    before = counts()
    _error(api_client(team.social).post(f"/api/v1/incidents/{ref}/statements",
                                        json={"platform": "x", "holding_statement": number}), 400, "holding_statement")
    assert counts() == before
