"""The statements API: draft, list, edit, approve, reject, publish; refusals are JSON with a reason."""

from __future__ import annotations

from crisis.extensions import db
from crisis.incidents.service import get_incident
from crisis.statements.models import Statement
from crisis.timeline.service import events_for

URL = "/api/v1/incidents/{ref}/statements"


def test_the_whole_flow_through_the_api(app, ref, team, spokesperson, api_client):
    social, legal, marketing, spokes = (api_client(e) for e in (team.social, team.legal, team.marketing, spokesperson))
    base = URL.format(ref=ref)
    created = social.post(base, json={"platform": "x", "step": "holding-statement", "submit": False})
    assert created.status_code == 201, created.json
    sid = created.json["id"]
    assert created.json["status"] == "draft"
    assert "https://x.com/someone/status/1" in created.json["body"]
    edited = social.patch(f"{base}/{sid}", json={"body": "We're aware and looking into it."})
    assert edited.status_code == 200
    assert edited.json["version"] == 2
    assert social.post(f"{base}/{sid}/submit").json["status"] == "in_review"
    assert legal.post(f"{base}/{sid}/approve", json={}).json["approvals"][0]["status"] == "approved"
    approved = marketing.post(f"{base}/{sid}/approve")
    assert approved.json["status"] == "approved"
    published = spokes.post(f"{base}/{sid}/publish", json={"url": "https://x.com/exampleco/status/7"})
    assert published.status_code == 200, published.json
    assert published.json["published_by"] == spokesperson
    listed = social.get(base)
    assert [s["status"] for s in listed.json["statements"]] == ["published"]
    timeline = social.get(f"/api/v1/incidents/{ref}/timeline").json["events"]
    kinds = [e["kind"] for e in timeline if e["kind"].startswith("statement.")]
    assert kinds == [
        "statement.drafted", "statement.edited", "statement.submitted", "statement.approved",
        "statement.approved", "statement.published",
    ]


def test_the_contract_flow_needs_no_separate_submit(ref, team, spokesperson, api_client):
    """DESIGN.md: POST {body, platform, step?}, then approve, then publish."""
    social, legal, marketing, spokes = (api_client(e) for e in (team.social, team.legal, team.marketing, spokesperson))
    base = URL.format(ref=ref)
    created = social.post(base, json={"platform": "x", "body": "We are aware and looking into it.", "step": "holding-statement"})
    assert created.status_code == 201, created.json
    assert created.json["status"] == "in_review"
    sid = created.json["id"]
    assert legal.post(f"{base}/{sid}/approve").status_code == 200
    assert marketing.post(f"{base}/{sid}/approve").json["status"] == "approved"
    published = spokes.post(f"{base}/{sid}/publish", json={"url": "https://x.com/exampleco/status/8"})
    assert published.status_code == 200, published.json
    assert published.json["status"] == "published"


def test_draft_and_submit_in_one_call_and_get_one(ref, team, api_client):
    social = api_client(team.social)
    created = social.post(URL.format(ref=ref), json={"platform": "facebook", "body": "We hear you.", "submit": True})
    assert created.status_code == 201
    assert created.json["status"] == "in_review"
    one = social.get(f"{URL.format(ref=ref)}/{created.json['id']}")
    assert one.json["body"] == "We hear you."
    assert [a["role"] for a in one.json["approvals"]] == ["legal", "marketing"]


def test_publishing_an_unapproved_statement_is_403_with_a_reason(app, ref, team, spokesperson, api_client):
    social, spokes = api_client(team.social), api_client(spokesperson)
    sid = social.post(URL.format(ref=ref), json={"platform": "x", "body": "Hi", "submit": True}).json["id"]
    response = spokes.post(f"{URL.format(ref=ref)}/{sid}/publish", json={"url": "https://x.com/a/status/1"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert "not approved" in response.json["error"]["message"]
    assert social.get(f"{URL.format(ref=ref)}/{sid}").json["status"] == "in_review"
    with app.app_context():
        assert not events_for(get_incident(ref).id, kinds=["statement.published"])


def test_publishing_by_a_non_spokesperson_is_403_and_a_second_publish_is_409(ref, team, spokesperson, api_client, make_person):
    social, legal, marketing = api_client(team.social), api_client(team.legal), api_client(team.marketing)
    base = URL.format(ref=ref)
    sid = social.post(base, json={"platform": "x", "body": "Hi", "submit": True}).json["id"]
    legal.post(f"{base}/{sid}/approve")
    marketing.post(f"{base}/{sid}/approve")
    # Holds the publish permission, is not an authorised spokesperson.
    make_person("intern@example.com", permissions=["publish", "view"])
    response = api_client("intern@example.com").post(f"{base}/{sid}/publish", json={"url": "https://x.com/a/status/1"})
    assert response.status_code == 403
    assert "not an authorised, trained spokesperson" in response.json["error"]["message"]
    # No publish permission at all: refused before the service is asked.
    assert social.post(f"{base}/{sid}/publish", json={"url": "https://x.com/a/status/1"}).status_code == 403
    assert api_client(spokesperson).post(f"{base}/{sid}/publish", json={"url": "https://x.com/a/status/1"}).status_code == 200
    again = api_client(spokesperson).post(f"{base}/{sid}/publish", json={"url": "https://x.com/a/status/1"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"


def test_bad_bodies_name_the_field_and_change_nothing(app, ref, team, api_client):
    social = api_client(team.social)
    base = URL.format(ref=ref)
    cases = [
        ({"body": "Hi"}, 400, "platform"),
        ({"platform": "x", "body": "Hi", "colour": "red"}, 400, "colour"),
        ({"platform": "x"}, 422, "body"),
        ({"platform": "x", "body": "Hi", "step": "nope"}, 422, "step"),
        ({"platform": "x", "body": "Hi", "holding_statement": 999}, 422, "holding_statement"),
    ]
    for body, status, field in cases:
        response = social.post(base, json=body)
        assert response.status_code == status, (body, response.json)
        assert response.json["error"]["field"] == field
    response = social.post(base, data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert social.get(base).json["statements"] == []
    sid = social.post(base, json={"platform": "x", "body": "Hi", "submit": True}).json["id"]
    legal = api_client(team.legal)
    response = legal.post(f"{base}/{sid}/reject", json={})
    assert response.status_code == 400
    assert response.json["error"]["field"] == "reason"
    assert legal.post(f"{base}/{sid}/reject", json={"reason": "   "}).status_code == 422
    assert social.get(f"{base}/{sid}").json["status"] == "in_review"
    with app.app_context():
        assert [e.kind for e in events_for(get_incident(ref).id, kinds=["statement."])] == ["statement.drafted", "statement.submitted"]


def test_refusals_by_permission_and_by_role(ref, team, api_client):
    base = URL.format(ref=ref)
    viewer = api_client(team.viewer)
    assert viewer.get(base).status_code == 200
    response = viewer.post(base, json={"platform": "x", "body": "Hi"})
    assert response.status_code == 403
    assert "'respond'" in response.json["error"]["message"]
    sid = api_client(team.social).post(base, json={"platform": "x", "body": "Hi", "submit": True}).json["id"]
    # The lead may approve in general but holds neither approver role.
    response = api_client(team.lead).post(f"{base}/{sid}/approve")
    assert response.status_code == 403
    assert "legal and marketing" in response.json["error"]["message"]
    assert api_client(team.social).post(f"{base}/{sid}/approve").status_code == 403


def test_unknown_incident_or_statement_is_404(ref, team, api_client):
    social = api_client(team.social)
    assert social.get(URL.format(ref="INC-1999-0001")).status_code == 404
    response = social.get(f"{URL.format(ref=ref)}/12345")
    assert response.status_code == 404
    assert response.json["error"]["field"] == "statement"


def test_a_statement_of_another_incident_is_not_reachable_through_this_one(app, ref, team, api_client, incident_factory):
    other = incident_factory(title="Another thing")
    social = api_client(team.social)
    sid = social.post(URL.format(ref=other), json={"platform": "x", "body": "Hi"}).json["id"]
    assert social.get(f"{URL.format(ref=ref)}/{sid}").status_code == 404
    assert social.patch(f"{URL.format(ref=ref)}/{sid}", json={"body": "changed"}).status_code == 404
    with app.app_context():
        assert db.session.get(Statement, sid).body == "Hi"


def test_openapi_documents_the_statement_endpoints(client):
    document = client.get("/api/v1/openapi.json").json
    paths = document["paths"]
    assert "post" in paths["/api/v1/incidents/{ref}/statements"]
    assert "post" in paths["/api/v1/incidents/{ref}/statements/{statement_id}/publish"]
    assert "patch" in paths["/api/v1/incidents/{ref}/statements/{statement_id}"]


def test_holding_statement_library_is_listed(app, team, api_client):
    from crisis.people.service import get_person
    from crisis.statements.service import add_holding_statement

    with app.app_context():
        add_holding_statement(title="Aware", body="We're aware.", platform="", approved_by=get_person(team.legal))
        db.session.commit()
    listed = api_client(team.viewer).get("/api/v1/holding-statements").json["holding_statements"]
    assert [(h["title"], h["approved_by"]) for h in listed] == [("Aware", team.legal)]
