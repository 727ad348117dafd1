"""Refused forms in a real browser: the reason beside the field, what was typed kept, at 1280 and 390 px."""

from __future__ import annotations

import pytest

from crisis.extensions import db
from tests.support.browser import refuse_blank_block_reason
from tests.support.constants import PASSWORD
from tests.support.incidents import kinds, step_state

pytestmark = pytest.mark.e2e


def test_the_comms_lead_sees_refusals_beside_the_fields_and_keeps_the_typing(app, team, incident_factory, open_session):
    from playwright.sync_api import expect

    ref = incident_factory(title="Kettle video going viral")
    tab = open_session("refused-lead")
    tab.expect_status(409)
    tab.expect_status(422)
    tab.login(team.lead, PASSWORD)
    tab.goto(f"/incidents/{ref}")
    error = refuse_blank_block_reason(tab, ref)
    expect(error).to_have_text("Give a reason.")
    expect(tab.page.locator("#step-gather-facts input[name=reason]").first).to_have_attribute("aria-invalid", "true")
    tab.shoot("block-reason")
    assert step_state(app, ref, "gather-facts")["status"] == "active"

    tab.goto(f"/incidents/{ref}")
    tab.page.select_option("#answer-spreading", "yes")
    tab.page.get_by_role("button", name="Record answers").click()
    expect(tab.page.locator(".flash-success")).to_contain_text("Triage answers recorded")
    # The timeline says the question and the answer, not their keys.
    expect(tab.page.locator("#recent-events")).to_contain_text("answered triage: Is it spreading beyond the original post")
    tab.page.get_by_role("button", name="Record answers").click()
    expect(tab.page.locator("#triage-form-error")).to_contain_text("Those answers are already recorded")
    tab.page.select_option("#status", "resolved")
    tab.page.fill("#force_reason", "")
    tab.page.get_by_role("button", name="Save changes").click()
    expect(tab.page.locator("#change-status-error")).to_contain_text("still open")
    expect(tab.page.locator("#status")).to_have_value("resolved")
    tab.page.fill("#note-text", "  ")
    tab.page.get_by_role("button", name="Add note").click()
    expect(tab.page.locator("#note-text-error")).to_have_text("Write the note first.")
    tab.shoot("note-and-status")
    assert kinds(app, ref).count("incident.triage_answered") == 1


def test_the_approver_and_the_spokesperson_see_refusals_beside_the_fields(app, team, incident_factory, open_session):
    from playwright.sync_api import expect

    from crisis import clock
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.statements import service as statements

    ref = incident_factory(title="Kettle video going viral", links=[("x", "https://x.com/someone/status/1")])
    with app.app_context():
        social = get_person(team.social)
        statement = statements.draft_statement(
            incident=get_incident(ref), actor=social, platform="x", step_key="holding-statement"
        )
        statements.submit_statement(statement=statement, actor=social)
        statements.authorise_spokesperson(
            person=get_person(team.spokes), platform="x", trained_at=clock.now(), granted_by=get_person(team.admin)
        )
        db.session.commit()
        sid = statement.id
    detail = f"/incidents/{ref}/statements/{sid}"
    legal = open_session("refused-legal")
    legal.expect_status(422)
    legal.login(team.legal, PASSWORD)
    legal.goto(detail)
    legal.page.locator("summary", has_text="Send back with a reason").click()
    legal.page.fill("#reject-reason", "   ")
    legal.page.get_by_role("button", name="Send back").click()
    expect(legal.page.locator("#reject-reason-error")).to_have_text("Say why the statement goes back.")
    legal.shoot("reject-reason")
    legal.page.get_by_role("button", name="Approve version 1").click()
    expect(legal.page.locator(".flash-success")).to_contain_text("Approved")

    with app.app_context():
        statements.approve_statement(statement=statements.get_statement(incident=get_incident(ref), statement_id=sid),
                                     actor=get_person(team.marketing))
        db.session.commit()
    spokes = open_session("refused-spokes")
    spokes.expect_status(422)
    spokes.login(team.spokes, PASSWORD)
    spokes.goto(detail)
    spokes.page.fill("#publish-url", "ftp://x.com/exampleco/1")
    spokes.page.get_by_role("button", name="Mark published").click()
    expect(spokes.page.locator("#publish-url-error")).to_contain_text("Give the address of the live post")
    expect(spokes.page.locator("#publish-url")).to_have_value("ftp://x.com/exampleco/1")
    spokes.shoot("publish-url")
