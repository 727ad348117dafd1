"""Probe finding 6: a statement's words are changed only by the people the rule names.

The rule (crisis.permissions.can_edit_statement): its author, the owner of its step, the triage
owner, a triage or comms lead, or an admin. Any other `respond` holder is refused and nothing changes.
"""

from __future__ import annotations

import pytest

URL = "/api/v1/incidents/{ref}/statements"


@pytest.fixture
def drafted(ref, team, api_client) -> str:
    """A holding statement drafted by the social media manager (its step is the spokesperson's)."""
    created = api_client(team.social).post(URL.format(ref=ref), json={
        "platform": "x", "body": "We are aware and looking into it.", "step": "holding-statement", "submit": False,
    })
    assert created.status_code == 201, created.json
    return f"{URL.format(ref=ref)}/{created.json['id']}"


def test_a_responder_who_is_not_named_by_the_rule_cannot_edit(drafted, team, api_client):
    refused = api_client(team.care).patch(drafted, json={"body": "Rewritten by someone else."})
    assert refused.status_code == 403
    assert refused.json["error"]["field"] == "statement"
    assert "author" in refused.json["error"]["message"]
    after = api_client(team.viewer).get(drafted).json
    assert after["version"] == 1 and after["body"] == "We are aware and looking into it."


@pytest.mark.parametrize("who", ["social", "spokes", "lead", "admin"], ids=["author", "step owner", "lead", "admin"])
def test_the_people_the_rule_names_can_edit(drafted, team, api_client, who):
    edited = api_client(getattr(team, who)).patch(drafted, json={"body": f"Reworded by the {who}."})
    assert edited.status_code == 200, edited.json
    assert edited.json["version"] == 2


def test_an_approved_statement_cannot_be_rewritten_by_any_responder(drafted, team, api_client):
    social = api_client(team.social)
    assert social.post(f"{drafted}/submit").status_code == 200
    assert api_client(team.legal).post(f"{drafted}/approve").status_code == 200
    assert api_client(team.marketing).post(f"{drafted}/approve").json["status"] == "approved"
    refused = api_client(team.hr).patch(drafted, json={"body": "Quietly reworded."})
    assert refused.status_code == 403
    after = api_client(team.viewer).get(drafted).json
    assert after["status"] == "approved" and after["version"] == 1
