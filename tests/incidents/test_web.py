"""The incident web pages: list and filters, the declare form, the incident page and its actions, My steps."""

from __future__ import annotations

import re

import pytest

from crisis.extensions import db
from crisis.incidents import service
from tests.support.incidents import counts, incident_state, kinds, step_state


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def as_lead(team, synced, login):
    login(team.lead)
    return team


def test_the_declare_form_declares_and_lands_on_the_incident(as_lead, client, app):
    page = client.get("/incidents/new")
    assert page.status_code == 200
    assert 'name="title"' in text(page) and 'name="csrf_token"' in text(page)
    response = client.post("/incidents/new", data={
        "playbook": "wrong-price", "title": "Ad shows the TV at 9.99", "severity": "SEV2",
        "summary": "Carousel ad on Instagram", "links": "https://www.instagram.com/p/abc\nreddit https://reddit.com/r/deals/1",
        "triage_owner": "",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/incidents/INC-2026-0001"
    incident = incident_state(app, "INC-2026-0001")
    assert incident["links"] == [
        {"platform": "instagram", "url": "https://www.instagram.com/p/abc"},
        {"platform": "reddit", "url": "https://reddit.com/r/deals/1"},
    ]
    assert incident["triage_owner"] == as_lead.lead
    page = client.get(response.headers["Location"])
    assert "INC-2026-0001 declared" in text(page)
    assert "Ad shows the TV at 9.99" in text(page)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "Give the incident a title"),
        ({"title": "x" * 201}, "200 characters"),
        ({"links": "javascript:alert(1)"}, "not an http(s) URL"),
        ({"links": "a b c"}, "write the platform and the URL"),
        ({"playbook": "no-such"}, "no-such"),
        ({"severity": "SEV9"}, "Not a valid choice"),
        ({"triage_owner": "ghost@example.com"}, "Not a valid choice"),
    ],
)
def test_bad_declare_forms_show_the_error_and_create_nothing(as_lead, client, app, changes, message):
    data = {"playbook": "viral-complaint", "title": "Complaint", "severity": "SEV2", "links": ""} | changes
    response = client.post("/incidents/new", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert counts(app) == (0, 0, 0)


def test_declaring_needs_the_declare_permission(team, synced, login, client, app):
    login(team.care)
    assert client.get("/incidents/new").status_code == 403
    assert client.post("/incidents/new", data={"playbook": "viral-complaint", "title": "x", "severity": "SEV2"}).status_code == 403
    assert counts(app)[0] == 0


def test_signed_out_visitors_are_sent_to_login(client):
    for url in ("/incidents", "/incidents/new", "/incidents/INC-2026-0001", "/my-steps"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_the_list_filters_and_its_empty_states(as_lead, client, incident_factory, clock, login):
    assert "No open incidents" in text(client.get("/incidents"))
    sev1 = incident_factory(severity="SEV1", title="Hijacked account posts spam", playbook="account-takeover")
    sev3 = incident_factory(severity="SEV3", title="Typo in a post", declared_by=as_lead.triage_backup,
                            triage_owner_email=as_lead.triage_backup)
    clock.advance(minutes=40)
    page = text(client.get("/incidents"))
    assert sev1 in page and sev3 in page
    assert re.search(r"\d+ late", page)
    assert sev3 not in text(client.get("/incidents?severity=SEV1"))
    assert "No incidents match" in text(client.get("/incidents?status=closed"))
    # Security owns steps in the account takeover only.
    login(as_lead.security)
    mine = text(client.get("/incidents?mine=1"))
    assert sev1 in mine and sev3 not in mine


def test_the_incident_page_shows_owners_due_times_and_escalation(as_lead, client, incident_factory, app, clock):
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        service.get_incident(ref).step("holding-statement").escalation_level = 2
        db.session.commit()
    clock.advance(minutes=20)
    page = text(client.get(f"/incidents/{ref}"))
    assert "Gather the facts" in page
    assert "overdue by 5 min" in page  # due at +15m
    assert "due in 10 min" in page  # holding statement due at +30m
    assert "escalation level 2" in page
    assert "Spokes" in page  # owner from the roster
    assert "waits on the triage questions" in page
    assert "1 step does not apply" in page  # brief-exec-sponsor at SEV2
    assert f'href="/incidents/{ref}/timeline"' in page
    assert "incident declared" in page
    assert 'name="csrf_token"' in page
    assert client.get("/incidents/INC-2026-0404").status_code == 404


def test_a_viewer_sees_the_page_without_action_buttons(team, synced, login, client, incident_factory):
    ref = incident_factory()
    login(team.viewer)
    page = text(client.get(f"/incidents/{ref}"))
    assert "Gather the facts" in page
    assert "Acknowledge</button>" not in page
    assert "Record answers" not in page


def test_step_buttons_act_and_a_second_complete_is_refused_with_a_message(as_lead, client, incident_factory, app):
    ref = incident_factory()
    base = f"/incidents/{ref}/steps/gather-facts"
    assert client.post(f"{base}/acknowledge").status_code == 302
    response = client.post(f"{base}/complete", data={"note": "Archived"}, headers={"Referer": f"/incidents/{ref}"})
    assert response.status_code == 302
    assert step_state(app, ref, "gather-facts")["status"] == "done"
    again = client.post(f"{base}/complete", data={"note": "again"}, headers={"Referer": f"/incidents/{ref}"},
                        follow_redirects=True)
    assert "already done" in text(again)
    assert kinds(app, ref).count("step.completed") == 1
    client.post(f"/incidents/{ref}/steps/assess-and-classify/assign", data={"owner": as_lead.triage_backup})
    assert step_state(app, ref, "assess-and-classify")["owner"] == as_lead.triage_backup
    client.post(f"/incidents/{ref}/steps/holding-statement/block", data={"reason": "Waiting for legal"})
    assert step_state(app, ref, "holding-statement")["status"] == "blocked"
    client.post(f"/incidents/{ref}/steps/holding-statement/unblock", data={})
    client.post(f"/incidents/{ref}/steps/holding-statement/skip", data={"reason": "Handled by phone"})
    assert step_state(app, ref, "holding-statement")["status"] == "skipped"
    assert client.post(f"{base}/explode").status_code == 404


def test_triage_change_and_note_forms(as_lead, client, incident_factory, app):
    ref = incident_factory(severity="SEV3")
    client.post(f"/incidents/{ref}/triage", data={"answer-author": "troll", "answer-spreading": ""})
    assert incident_state(app, ref)["triage_answers"] == {"author": "troll"}
    client.post(f"/incidents/{ref}/change", data={"severity": "SEV1", "status": "triage", "triage_owner": as_lead.lead})
    state = incident_state(app, ref)
    assert (state["severity"], state["status"]) == ("SEV1", "triage")
    refused = client.post(f"/incidents/{ref}/change", data={"severity": "SEV1", "status": "resolved"},
                          headers={"Referer": f"/incidents/{ref}"}, follow_redirects=True)
    assert "required step" in text(refused)
    assert incident_state(app, ref)["status"] == "triage"
    client.post(f"/incidents/{ref}/notes", data={"text": "Spoke to the customer"})
    page = text(client.get(f"/incidents/{ref}"))
    assert "Spoke to the customer" in page
    assert kinds(app, ref).count("incident.note") == 1


def test_my_steps_orders_by_due_time_across_incidents(team, synced, login, client, incident_factory, clock):
    first = incident_factory(severity="SEV3")  # holding statement due in 1h
    clock.advance(minutes=5)
    second = incident_factory(severity="SEV1", playbook="account-takeover")
    login(team.spokes)
    page = text(client.get("/my-steps"))
    assert first in page and second in page
    # The SEV1 account takeover's statement is due sooner than the SEV3's, so it comes first.
    assert page.index(second) < page.index(first)
    login(team.viewer)
    assert "Nothing is waiting on you" in text(client.get("/my-steps"))


def test_my_steps_complete_button_returns_to_my_steps(team, synced, login, client, incident_factory, app):
    ref = incident_factory()
    login(team.lead)
    response = client.post(f"/incidents/{ref}/steps/gather-facts/complete",
                           data={"note": "Archived", "next": "/my-steps"})
    assert response.headers["Location"] == "/my-steps"
    assert step_state(app, ref, "gather-facts")["status"] == "done"
    evil = client.post(f"/incidents/{ref}/steps/holding-statement/acknowledge", data={"next": "//evil.example"})
    assert "evil" not in evil.headers.get("Location", "")


def test_a_refused_step_action_shows_the_reason_in_the_step_row_instead_of_redirecting(
    as_lead, client, incident_factory, app
):
    ref = incident_factory()
    base = f"/incidents/{ref}/steps/gather-facts"
    assert client.post(f"{base}/complete", data={"note": "Archived"}).status_code == 302
    # No Referer: sending the browser back to the POST-only action URL would end on a 405.
    again = client.post(f"{base}/complete", data={"note": "again"})
    assert again.status_code == 409
    assert "already done" in text(again)
    # An off-site Referer is never followed.
    offsite = client.post(f"{base}/complete", data={"note": "again"}, headers={"Referer": "https://evil.example/x"})
    assert offsite.status_code == 409
    # Even from our own page the page is shown again (no redirect to a flash), the reason in the step's row.
    back = client.post(f"{base}/complete", data={}, headers={"Referer": f"http://localhost/incidents/{ref}"})
    assert back.status_code == 409
    row = re.search(r'<tr id="step-gather-facts".*?</tr>', text(back), re.S).group(0)
    assert 'class="field-error"' in row and "already done" in row
    assert kinds(app, ref).count("step.completed") == 1


def test_link_lines_accept_a_platform_label_with_a_colon():
    from crisis.incidents.forms import parse_links

    assert parse_links("TikTok: https://www.tiktok.com/@a/video/1\nhttps://x.com/a/status/2") == [
        ("TikTok", "https://www.tiktok.com/@a/video/1"),
        ("x", "https://x.com/a/status/2"),
    ]
