"""Publishing steps, the draft form's default step, folded templates and four eyes on the page."""

from __future__ import annotations

import pytest

from crisis.errors import Conflict
from crisis.incidents import service as incidents
from tests.support.incidents import act, counts, step_state


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_publishing_step_cannot_be_ticked_done(app, team, ref):
    before = counts(app)
    with pytest.raises(Conflict) as caught:
        act(app, incidents.complete_step, ref, team.spokes, step_key="holding-statement")
    assert caught.value.message.startswith("“Publish a holding statement” is done when an approved statement is published")
    assert counts(app) == before
    assert step_state(app, ref, "holding-statement")["status"] == "active"


def test_the_web_refuses_ticking_it_and_offers_drafting(app, team, ref, client, login):
    login(team.spokes)
    detail = page(client, f"/incidents/{ref}")
    assert "Draft the statement" in detail
    assert f'/incidents/{ref}/steps/holding-statement/complete' not in detail
    mine = page(client, "/my-steps")
    assert "Draft the statement" in mine and "steps/holding-statement/complete" not in mine
    response = client.post(f"/incidents/{ref}/steps/holding-statement/complete", data={"note": "done"},
                           headers={"Referer": f"http://localhost/incidents/{ref}"})
    # Refused in the step's row of the page shown again (no longer a redirect to a flash).
    assert response.status_code == 409
    assert "is done when an approved statement is published" in response.get_data(as_text=True)
    assert step_state(app, ref, "holding-statement")["status"] == "active"


def test_publishing_or_a_skip_with_a_reason_completes_it(app, team, ref, desk, spokesperson):
    desk.publish(spokesperson, desk.approved(team))
    assert step_state(app, ref, "holding-statement")["status"] == "done"


def test_a_lead_may_skip_it_with_a_reason(app, team, ref):
    act(app, incidents.skip_step, ref, team.lead, step_key="holding-statement", reason="Customer deleted the post")
    assert step_state(app, ref, "holding-statement")["status"] == "skipped"


def test_the_draft_form_defaults_to_the_running_publishing_step(team, ref, client, login):
    login(team.social)
    assert '<option selected value="holding-statement">' in page(client, f"/incidents/{ref}")


def test_a_template_drafts_without_the_files_line_breaks(team, desk):
    body = desk.get(desk.draft(team.social, step_key="holding-statement"))["body"]
    assert "\n" not in body
    assert "looking into it now and will reply here within the hour" in body


def test_the_author_is_not_offered_approve_and_an_approver_is_warned_before_editing(app, team, desk, client, login,
                                                                                     make_person):
    # A second legal approver: alone on the roster, legal may not edit at all (tests/statements/test_sole_approver.py).
    make_person("legal.backup@example.com", permissions=("respond", "approve", "view"), roles=("legal:backup",))
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    # Owning the statement's step lets legal edit it (crisis.permissions); its approval is still asked.
    act(app, incidents.assign_step, desk.ref, team.lead, step_key="holding-statement", owner_email=team.legal)
    login(team.legal)
    before = page(client, f"/incidents/{desk.ref}/statements/{sid}")
    assert "Approve version 1" in before and 'id="edit-own-approval"' in before
    desk.edit(team.legal, sid, body="We are looking into it now. — Example Co")
    assert desk.get(sid)["status"] == "in_review"
    after = page(client, f"/incidents/{desk.ref}/statements/{sid}")
    assert "Approve version 2" not in after
    login(team.marketing)
    assert "Approve version 2" in page(client, f"/incidents/{desk.ref}/statements/{sid}")


def test_my_steps_lists_approvals_waiting_and_sign_in_lands_there(team, desk, client, login):
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    response = client.post("/login", data={"email": team.legal, "password": "correct-horse-battery"})
    assert response.status_code == 302 and response.headers["Location"] == "/my-steps"
    mine = page(client, "/my-steps")
    assert "1 step is waiting on you." in mine
    assert f"/incidents/{desk.ref}/statements/{sid}" in mine and "legal approval" in mine
