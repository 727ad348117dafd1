"""Statement pages: the panel, drafting, approving, refusals as flashes, publishing."""

from __future__ import annotations

from crisis.extensions import db
from crisis.statements.models import Statement


def test_the_panel_has_a_helpful_empty_state_and_a_draft_form(client, login, ref, team):
    login(team.social)
    page = client.get(f"/incidents/{ref}/statements")
    assert page.status_code == 200
    assert b"No statement drafted yet" in page.data
    assert b"Publish a holding statement" in page.data  # the publishing step is offered
    # A viewer sees the statements but no draft form.
    client.post("/logout")
    login(team.viewer)
    page = client.get(f"/incidents/{ref}/statements")
    assert page.status_code == 200
    assert b"Draft a statement" not in page.data


def test_draft_approve_and_publish_through_the_pages(app, client, login, ref, team, spokesperson):
    login(team.social)
    response = client.post(f"/incidents/{ref}/statements", data={"platform": "x", "step": "holding-statement", "body": "", "holding_statement": ""})
    assert response.status_code == 302
    with app.app_context():
        sid = db.session.scalar(db.select(Statement.id))
    detail = f"/incidents/{ref}/statements/{sid}"
    assert response.headers["Location"].endswith(detail)
    page = client.get(detail)
    assert b"Submit for approval" in page.data
    assert b"legal and marketing" in page.data
    client.post(f"{detail}/submit")
    for approver in (team.legal, team.marketing):
        client.post("/logout")
        login(approver)
        page = client.get(detail)
        assert b"Approve version 1" in page.data
        assert client.post(f"{detail}/approve").status_code == 302
    client.post("/logout")
    login(spokesperson)
    page = client.get(detail)
    assert b"Mark published" in page.data
    response = client.post(f"{detail}/publish", data={"url": "https://x.com/exampleco/status/5"}, follow_redirects=True)
    assert b"Marked published" in response.data
    with app.app_context():
        assert db.session.get(Statement, sid).status == "published"


def test_refused_publish_is_a_flash_and_changes_nothing(app, client, login, ref, team, make_person):
    login(team.social)
    client.post(f"/incidents/{ref}/statements", data={"platform": "x", "body": "We're on it."})
    with app.app_context():
        sid = db.session.scalar(db.select(Statement.id))
    detail = f"/incidents/{ref}/statements/{sid}"
    client.post("/logout")
    make_person("pub@example.com", permissions=["publish", "view"])
    login("pub@example.com")
    page = client.get(detail)
    assert b"Mark published" not in page.data
    response = client.post(f"{detail}/publish", data={"url": "https://x.com/a/status/1"}, headers={"Referer": detail}, follow_redirects=True)
    assert response.status_code == 200
    assert b"not approved" in response.data
    with app.app_context():
        assert db.session.get(Statement, sid).status == "draft"


def test_editing_an_approved_statement_warns_and_resets(app, client, login, desk, team):
    sid = desk.approved(team)
    login(team.social)
    detail = f"/incidents/{desk.ref}/statements/{sid}"
    assert b"Saving a change asks every approver again" in client.get(detail).data
    response = client.post(f"{detail}/edit", data={"platform": "x", "body": "New words"}, follow_redirects=True)
    assert b"the approvers were asked again" in response.data
    assert desk.get(sid)["status"] == "in_review"
    # An empty edit is refused beside the wording, the platform typed is kept, and nothing changes.
    response = client.post(f"{detail}/edit", data={"platform": "x-typed", "body": ""})
    assert response.status_code == 422
    assert b'id="edit-body-error" role="alert">Write the wording of the statement.</p>' in response.data
    assert b'value="x-typed"' in response.data
    assert desk.get(sid)["version"] == 2


def test_reject_through_the_page_needs_a_reason(client, login, desk, team):
    sid = desk.draft(team.social, body="Hi")
    desk.submit(team.social, sid)
    login(team.legal)
    detail = f"/incidents/{desk.ref}/statements/{sid}"
    response = client.post(f"{detail}/reject", data={"reason": ""}, follow_redirects=True)
    assert b"Say why the statement goes back" in response.data
    assert desk.get(sid)["status"] == "in_review"
    client.post(f"{detail}/reject", data={"reason": "Too casual"})
    page = client.get(detail)
    assert b"Sent back: Too casual" in page.data


def test_statement_text_with_script_and_javascript_links_renders_inert(client, login, desk, team):
    evil = '<script>alert("x")</script> [click](javascript:alert(1)) <a href="javascript:alert(2)">me</a>'
    sid = desk.draft(team.social, body=evil)
    login(team.social)
    for path in (f"/incidents/{desk.ref}/statements/{sid}", f"/incidents/{desk.ref}/statements"):
        page = client.get(path).data.decode()
        assert "<script>alert" not in page
        assert '<a href="javascript:' not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "&lt;a href=&#34;javascript:alert(2)&#34;&gt;me&lt;/a&gt;" in page


def test_the_incident_page_shows_the_statements_panel(client, login, desk, team):
    sid = desk.draft(team.social, body="We're aware and on it.")
    login(team.social)
    page = client.get(f"/incidents/{desk.ref}")
    assert page.status_code == 200
    assert b"Public statements" in page.data
    assert f"/incidents/{desk.ref}/statements/{sid}".encode() in page.data
    assert b"Draft a statement" in page.data


def test_the_draft_form_offers_library_wording_with_its_approver(app, client, login, ref, team):
    from crisis.people.service import get_person
    from crisis.statements.service import add_holding_statement

    with app.app_context():
        add_holding_statement(title="Aware", body="We're aware of {incident_title}.", platform="x", approved_by=get_person(team.legal))
        db.session.commit()
    login(team.social)
    page = client.get(f"/incidents/{ref}/statements").data.decode()
    assert "Aware (x) — approved by Legal, 21 Nov 2026" in page


def test_the_statement_page_warns_when_nobody_can_approve(app, client, login, desk, team):
    from crisis.people.service import get_person, set_active

    with app.app_context():
        set_active(person=get_person(team.legal), active=False)
        db.session.commit()
    sid = desk.draft(team.social, step_key="holding-statement")
    login(team.social)
    page = client.get(f"/incidents/{desk.ref}/statements/{sid}")
    assert b"Nobody active is on the legal roster" in page.data
