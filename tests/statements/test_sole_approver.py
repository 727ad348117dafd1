"""Finding 10c: an approver alone on a roster must not be able to stall a statement.

Four eyes: nobody approves wording they wrote. When the only legal approver writes a version
that needs legal's sign-off, nobody could ever approve it. The desk refuses that edit (or the
submission of such a version) with a message saying why and what to do instead: send it back
with the change as the reason, or have an admin add another approver. The page says so before
the approver types.
"""

from __future__ import annotations

from tests.support.constants import PASSWORD

URL = "/api/v1/incidents/{ref}/statements"


def _drafted_by_legal(ref, team, api_client) -> str:
    created = api_client(team.legal).post(URL.format(ref=ref), json={
        "platform": "x", "body": "We are aware and looking into it.", "step": "holding-statement", "submit": False,
    })
    assert created.status_code == 201, created.json
    return f"{URL.format(ref=ref)}/{created.json['id']}"


def _in_review_by_legal(ref, team, api_client) -> str:
    """Drafted by legal (its author, so an editor), worded by the admin, submitted: legal is asked."""
    statement = _drafted_by_legal(ref, team, api_client)
    assert api_client(team.admin).patch(statement, json={"body": "We are aware and investigating."}).status_code == 200
    assert api_client(team.legal).post(f"{statement}/submit").json["status"] == "in_review"
    return statement


def test_the_only_legal_approver_cannot_edit_wording_under_review(ref, team, api_client):
    statement = _in_review_by_legal(ref, team, api_client)
    refused = api_client(team.legal).patch(statement, json={"body": "We are aware; more soon."})
    assert refused.status_code == 409
    error = refused.json["error"]
    assert error["field"] == "body"
    assert error["message"].startswith("You are the only legal approver, and nobody may approve a version you wrote")
    assert "Send it back with the change as the reason" in error["message"]
    after = api_client(team.viewer).get(statement).json
    assert after["version"] == 2 and after["status"] == "in_review" and after["body"] == "We are aware and investigating."
    # The way out the message names works: legal sends it back with the change as the reason.
    rejected = api_client(team.legal).post(f"{statement}/reject", json={"reason": "Say 'more soon'."})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"


def test_a_version_the_only_approver_wrote_is_not_submitted(ref, team, api_client):
    statement = _drafted_by_legal(ref, team, api_client)
    # Submitted by someone else, the wording is still legal's: the submitter is told whose it is.
    refused = api_client(team.admin).post(f"{statement}/submit")
    assert refused.status_code == 409
    assert refused.json["error"]["field"] == "statement"
    assert refused.json["error"]["message"].startswith("Legal is the only legal approver, and nobody may approve a version Legal wrote")
    refused = api_client(team.legal).post(f"{statement}/submit")
    assert refused.json["error"]["message"].startswith("You are the only legal approver")
    assert "Leave the wording to its author or another editor" in refused.json["error"]["message"]
    assert api_client(team.viewer).get(statement).json["status"] == "draft"


def test_with_a_second_legal_approver_the_edit_goes_through_and_the_other_approves(ref, team, api_client, make_person):
    statement = _in_review_by_legal(ref, team, api_client)
    make_person("legal.backup@example.com", permissions=("respond", "approve", "view"), roles=("legal:backup",))
    edited = api_client(team.legal).patch(statement, json={"body": "We are aware; more soon."})
    assert edited.status_code == 200 and edited.json["status"] == "in_review"
    assert api_client(team.legal).post(f"{statement}/approve").status_code == 403
    assert api_client("legal.backup@example.com").post(f"{statement}/approve").status_code == 200
    assert api_client(team.marketing).post(f"{statement}/approve").json["status"] == "approved"


def test_a_backup_without_the_approve_permission_does_not_count(ref, team, api_client, make_person):
    statement = _in_review_by_legal(ref, team, api_client)
    make_person("legal.reader@example.com", permissions=("respond", "view"), roles=("legal:backup",))
    assert api_client(team.legal).patch(statement, json={"body": "We are aware; more soon."}).status_code == 409


def test_the_page_tells_the_only_approver_before_they_type(ref, team, api_client, client):
    statement = _in_review_by_legal(ref, team, api_client)
    client.post("/login", data={"email": team.legal, "password": PASSWORD})
    page = client.get(statement.removeprefix("/api/v1")).get_data(as_text=True)
    assert 'id="edit-sole-approver"' in page
    assert "You are the only legal approver" in page
    assert "Save as version" not in page, "no form that could only be refused"
