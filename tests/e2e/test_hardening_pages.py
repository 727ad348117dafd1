"""Finding 10a and 10c as a person sees them: the sign-in refusal and the sole approver's warning."""

from __future__ import annotations

import pytest

from crisis.extensions import db
from crisis.people.throttle import record_login_failure
from tests.support.constants import PASSWORD

pytestmark = pytest.mark.e2e


def test_the_only_legal_approver_is_told_before_typing(synced, team, incident_factory, api_client, open_session):
    ref = incident_factory(links=[("x", "https://x.com/someone/status/1")])
    created = api_client(team.legal).post(f"/api/v1/incidents/{ref}/statements", json={
        "platform": "x", "body": "We are aware and looking into it.", "step": "holding-statement", "submit": False,
    })
    statement = f"/api/v1/incidents/{ref}/statements/{created.json['id']}"
    assert api_client(team.admin).patch(statement, json={"body": "We are aware and investigating."}).status_code == 200
    assert api_client(team.legal).post(f"{statement}/submit").status_code == 200
    legal = open_session("sole-approver")
    legal.login(team.legal, PASSWORD)
    legal.goto(statement.removeprefix("/api/v1"))
    warning = legal.page.locator("#edit-sole-approver")
    assert warning.is_visible()
    assert "You are the only legal approver" in warning.inner_text()
    legal.page.locator("#edit-sole-approver").scroll_into_view_if_needed()
    legal.shoot("statement")


def test_a_busy_address_refusal_says_when_to_retry(app, team, open_session):
    with app.app_context():  # the browser's forms carry CSRF tokens: fail through the domain instead
        for n in range(50):
            record_login_failure(email=f"guess{n}@example.com", ip="127.0.0.1")
        db.session.commit()
    person = open_session("busy-address")
    person.expect_status(429)
    person.page.goto(person.base_url + "/login")
    person.page.fill("#email", "nobody@example.com")
    person.page.fill("#password", "Winter2026!")
    person.page.click("button[type=submit]")
    person.page.wait_for_load_state()
    assert "Try again after" in person.page.content()
    person.shoot("refused")
    # A colleague behind the same address signs in.
    person.login(team.legal, PASSWORD)
