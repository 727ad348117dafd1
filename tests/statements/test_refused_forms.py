"""Refused statement forms: the reason beside its field, what was typed kept, nothing changed."""

from __future__ import annotations

from crisis.extensions import db
from crisis.statements.models import Statement
from tests.support.refused import beside, page


def statements(app) -> int:
    with app.app_context():
        return db.session.query(Statement).count()


def test_a_draft_without_a_platform_keeps_the_wording(app, client, login, ref, team):
    login(team.social)
    response = client.post(f"/incidents/{ref}/statements", data={"platform": "", "body": "We hear you, and we are on it."})
    assert response.status_code == 422
    assert beside(response, "draft", "platform") == "Name the platform the statement is for."
    assert "We hear you, and we are on it.</textarea>" in page(response)
    assert '<details class="draft-statement" open>' in page(response)
    assert statements(app) == 0


def test_a_draft_with_no_wording_and_nothing_to_start_from_is_refused_beside_the_wording(app, client, login, ref, team):
    login(team.social)
    response = client.post(f"/incidents/{ref}/statements", data={"platform": "tiktok", "body": "", "step": ""})
    assert response.status_code == 422
    assert beside(response, "draft", "body").startswith("Write the wording")
    assert 'value="tiktok"' in page(response)
    assert statements(app) == 0


def test_an_edit_that_changes_nothing_is_refused_beside_the_wording(app, client, login, desk, team):
    sid = desk.draft(team.social, body="Hi there")
    login(team.social)
    response = client.post(f"/incidents/{desk.ref}/statements/{sid}/edit", data={"platform": "x", "body": "Hi there"})
    assert response.status_code == 422
    assert beside(response, "edit", "body").startswith("Nothing changed")
    assert desk.get(sid)["version"] == 1


def test_sending_back_without_a_reason_opens_the_form_with_the_reason_asked_for(client, login, desk, team):
    sid = desk.draft(team.social, body="Hi")
    desk.submit(team.social, sid)
    login(team.legal)
    response = client.post(f"/incidents/{desk.ref}/statements/{sid}/reject", data={"reason": ""})
    assert response.status_code == 422
    assert beside(response, "reject", "reason") == "Say why the statement goes back."
    assert "<details open>" in page(response)
    assert desk.get(sid)["status"] == "in_review"


def test_publishing_with_an_address_that_is_not_a_web_address_keeps_it(client, login, desk, team, spokesperson):
    sid = desk.approved(team)
    login(team.spokes)
    response = client.post(f"/incidents/{desk.ref}/statements/{sid}/publish", data={"url": "ftp://x.com/post"})
    assert response.status_code == 422
    assert beside(response, "publish", "url").startswith("Give the address of the live post")
    assert 'value="ftp://x.com/post"' in page(response)
    assert desk.get(sid)["status"] == "approved"


def test_submitting_twice_is_refused_at_the_approvals(client, login, desk, team):
    sid = desk.draft(team.social, body="Hi")
    desk.submit(team.social, sid)
    login(team.social)
    response = client.post(f"/incidents/{desk.ref}/statements/{sid}/submit")
    assert response.status_code == 409
    message = beside(response, "submit", "form")
    assert message.startswith("The x statement") and "only a draft can be submitted" in message
    assert "#" not in message
    assert desk.get(sid)["status"] == "in_review"
