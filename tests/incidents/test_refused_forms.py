"""Refused forms on the incident page and My steps: the reason beside its field, what was typed kept, nothing changed."""

from __future__ import annotations

import re

import pytest

from tests.support.incidents import incident_state, kinds, step_state
from tests.support.refused import beside, page


@pytest.fixture
def ref(team, synced, login, incident_factory):
    login(team.lead)
    return incident_factory()


def test_a_refused_completion_keeps_the_note_beside_its_field(app, client, ref):
    note = "Checked the order history. " * 400
    response = client.post(f"/incidents/{ref}/steps/gather-facts/complete", data={"note": note})
    assert response.status_code == 422
    assert beside(response, f"{ref}-gather-facts-complete", "note") == "The note can be at most 10000 characters."
    assert f'value="{note}"' in page(response)
    assert 'aria-invalid="true"' in page(response)
    assert step_state(app, ref, "gather-facts")["status"] == "active"


def test_a_refused_completion_on_my_steps_shows_my_steps_again(app, client, ref):
    note = "x" * 10_001
    response = client.post(f"/incidents/{ref}/steps/gather-facts/complete", data={"note": note, "next": "/my-steps"})
    assert response.status_code == 422
    assert "<h1>My steps</h1>" in page(response)
    assert beside(response, f"{ref}-gather-facts-complete", "note").startswith("The note can be at most")
    assert f'value="{note}"' in page(response)
    assert step_state(app, ref, "gather-facts")["status"] == "active"


@pytest.mark.parametrize("action", ["block", "skip"])
def test_a_reason_left_empty_is_asked_for_beside_it(app, client, ref, action):
    response = client.post(f"/incidents/{ref}/steps/gather-facts/{action}", data={"reason": "  "})
    assert response.status_code == 422
    assert beside(response, f"{ref}-gather-facts-{action}", "reason") == "Give a reason."
    # The fold the form sits in is open, so the reason is seen.
    assert re.search(r'<details class="step-more" open><summary>(Blocked|Skip)…', page(response))
    assert step_state(app, ref, "gather-facts")["status"] == "active"


def test_a_hand_over_to_someone_who_cannot_respond_is_refused_beside_the_owner(app, client, ref, team):
    before = step_state(app, ref, "gather-facts")["owner"]
    response = client.post(f"/incidents/{ref}/steps/gather-facts/assign", data={"owner": team.exec})
    assert response.status_code == 422
    assert "cannot act on steps" in beside(response, f"{ref}-gather-facts-assign", "owner")
    assert step_state(app, ref, "gather-facts")["owner"] == before


def test_a_second_acknowledgement_is_refused_in_the_step_row(app, client, ref):
    assert client.post(f"/incidents/{ref}/steps/gather-facts/acknowledge").status_code == 302
    response = client.post(f"/incidents/{ref}/steps/gather-facts/acknowledge")
    assert response.status_code == 409
    row = re.search(r'<tr id="step-gather-facts".*?</tr>', page(response), re.S).group(0)
    assert "is already acknowledged." in beside(response, f"{ref}-gather-facts-acknowledge", "form")
    assert "“Gather the facts" in row or "already acknowledged" in row
    assert kinds(app, ref).count("step.acknowledged") == 1


def test_a_refused_status_change_keeps_every_choice(app, client, ref):
    reason = "r" * 2001
    response = client.post(
        f"/incidents/{ref}/change", data={"severity": "SEV1", "status": "resolved", "force_reason": reason}
    )
    assert response.status_code == 422
    assert beside(response, "change", "force_reason") == "The reason can be at most 2000 characters."
    text = page(response)
    assert '<option value="SEV1" selected>' in text and '<option value="resolved" selected>' in text
    assert f'value="{reason}"' in text
    assert incident_state(app, ref)["severity"] == "SEV2"


def test_resolving_with_steps_open_says_so_beside_the_status(app, client, ref):
    response = client.post(f"/incidents/{ref}/change", data={"severity": "SEV2", "status": "resolved"})
    assert response.status_code == 409
    assert "still open" in beside(response, "change", "status")
    assert incident_state(app, ref)["status"] == "declared"


def test_triage_answers_already_recorded_are_refused_at_the_form(app, client, ref):
    assert client.post(f"/incidents/{ref}/triage", data={"answer-spreading": "yes"}).status_code == 302
    response = client.post(f"/incidents/{ref}/triage", data={"answer-spreading": "yes", "answer-facts_wrong": ""})
    assert response.status_code == 409
    assert beside(response, "triage", "form").startswith("Those answers are already recorded")
    assert kinds(app, ref).count("incident.triage_answered") == 1


def test_a_triage_answer_that_is_not_a_choice_is_refused_beside_its_question(app, client, ref):
    response = client.post(f"/incidents/{ref}/triage", data={"answer-spreading": "maybe"})
    assert response.status_code == 422
    message = beside(response, "triage", "answer-spreading")
    assert message.startswith("Answer “Is it spreading") and message.endswith("yes, no.")
    assert incident_state(app, ref)["triage_answers"] == {}


def test_an_empty_note_is_asked_for_and_a_long_one_kept(app, client, ref):
    response = client.post(f"/incidents/{ref}/notes", data={"text": "   "})
    assert response.status_code == 422
    assert beside(response, "note", "text") == "Write the note first."
    long_note = "n" * 10_001
    response = client.post(f"/incidents/{ref}/notes", data={"text": long_note})
    assert response.status_code == 422
    assert f">{long_note}</textarea>" in page(response)
    assert "note.added" not in kinds(app, ref)


def test_a_step_action_that_succeeds_still_redirects(client, ref):
    response = client.post(f"/incidents/{ref}/steps/gather-facts/complete", data={"note": "Done", "next": "/my-steps"})
    assert response.status_code == 302 and response.headers["Location"] == "/my-steps"
