"""The declare form's defaults: no playbook chosen for you, the chosen playbook's severity, a guide."""

from __future__ import annotations

import pytest

from tests.support.incidents import counts, incident_state


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def as_lead(team, synced, login):
    login(team.lead)
    return team


def test_the_form_preselects_no_playbook_and_describes_each(as_lead, client):
    page = text(client.get("/incidents/new"))
    assert 'name="playbook"' in page and " checked" not in page
    assert "Hijacked or compromised brand account" in page
    assert "A customer&#39;s complaint (a post, a video, a review thread) is spreading" in page
    assert 'id="severity-guide"' in page and "Watch and learn" in page
    assert '<option selected value="">The playbook&#39;s default</option>' in page


def test_a_playbook_page_link_preselects_that_playbook(as_lead, client):
    page = text(client.get("/incidents/new?playbook=wrong-price"))
    assert 'value="wrong-price" checked' in page
    detail = text(client.get("/playbooks/wrong-price"))
    assert 'href="/incidents/new?playbook=wrong-price"' in detail and "Declare with this playbook" in detail


def test_title_only_says_choose_a_playbook_and_creates_nothing(as_lead, client, app):
    before = counts(app)
    response = client.post("/incidents/new", data={"title": "Something is trending", "severity": ""})
    assert response.status_code == 422
    assert "Choose a playbook" in text(response)
    assert 'value="Something is trending"' in text(response)  # what was typed is kept
    assert counts(app) == before


@pytest.mark.parametrize(("playbook", "severity"), [("account-takeover", "SEV1"), ("viral-complaint", "SEV2")])
def test_no_severity_chosen_gets_the_playbooks_default(as_lead, client, app, playbook, severity):
    response = client.post("/incidents/new", data={"playbook": playbook, "title": "Trending", "severity": ""})
    assert response.status_code == 302
    assert incident_state(app, "INC-2026-0001")["severity"] == severity


def test_a_chosen_severity_wins_over_the_default(as_lead, client, app):
    client.post("/incidents/new", data={"playbook": "account-takeover", "title": "Trending", "severity": "SEV3"})
    assert incident_state(app, "INC-2026-0001")["severity"] == "SEV3"


def test_the_dashboard_always_offers_declare(as_lead, client):
    assert 'href="/incidents/new"' in text(client.get("/dashboard"))


def test_dashboard_rows_open_the_working_page_for_responders_and_the_timeline_for_executives(
    team, incident_factory, client, login
):
    ref = incident_factory()
    login(team.lead)
    board = text(client.get("/dashboard"))
    assert f'href="/incidents/{ref}"><strong>{ref}</strong>' in board
    assert f'href="/incidents/{ref}/timeline"' in board
    login(team.exec)
    board = text(client.get("/dashboard"))
    assert f'href="/incidents/{ref}/timeline"><strong>{ref}</strong>' in board
    assert f'href="/incidents/{ref}"' not in board


def test_sign_in_lands_an_executive_and_an_idle_responder_on_the_dashboard(team, synced, client):
    for email in (team.exec, team.care):
        response = client.post("/login", data={"email": email, "password": "correct-horse-battery"})
        assert response.headers["Location"] == "/dashboard"
        client.post("/logout")
