"""In a real browser: legal is signed in; the comms lead submits a statement; legal's bell shows it."""

from __future__ import annotations

# The password every test person gets (the make_person fixture's default).
PASSWORD = "correct-horse-battery"



def test_legal_hears_of_a_statement_the_moment_it_is_submitted(app, team, incident_factory, open_session):
    ref = incident_factory(severity="SEV2")
    legal = open_session("told-legal")
    legal.login(team.legal, PASSWORD)
    legal.goto("/dashboard")
    assert legal.page.locator(".bell [data-unread]").count() == 0

    lead = open_session("told-lead")
    lead.login(team.lead, PASSWORD)
    lead.goto(f"/incidents/{ref}")
    if lead.page.locator("details.draft-statement[open]").count() == 0:
        lead.page.locator("details.draft-statement summary").click()
    lead.page.fill("#draft-platform", "x")
    lead.page.select_option("#draft-step", "holding-statement")
    lead.page.fill("#draft-body", "We have seen the video and are looking into it now.")
    lead.page.click("details.draft-statement button[type=submit]")
    lead.page.wait_for_load_state()
    lead.page.click("text=Submit for approval")
    lead.page.wait_for_load_state()
    assert "in review" in lead.page.content().lower() or "in_review" in lead.page.content()

    # Until the live desk lands, the bell shows it on legal's next page load.
    legal.goto("/dashboard")
    badge = legal.page.locator(".bell [data-unread]")
    assert badge.inner_text() == "1"
    legal.page.click(".bell")
    legal.page.wait_for_load_state()
    assert "Please review the x statement" in legal.page.content() and ref in legal.page.content()
    legal.shoot("inbox")


def test_the_incident_page_says_when_the_next_level_fires_and_to_whom(app, team, incident_factory, open_session,
                                                                      clock):
    from crisis.escalation.scheduler import sweep_all
    from crisis.extensions import db

    ref = incident_factory(severity="SEV2")
    clock.advance(minutes=15)  # gather-facts falls due; level 1 reaches its owner, the lead
    with app.app_context():
        sweep_all()
        db.session.commit()
    tab = open_session("told-next-level")
    tab.login(team.lead, PASSWORD)
    tab.goto(f"/incidents/{ref}")
    line = tab.page.locator("[data-next-level]").first.inner_text()
    # Level 2 names the triage owner and the role lead, both the lead: it reaches the backup.
    assert "Next escalation in 10 min" in line and "Triage Backup" in line
    tab.shoot("incident")
    tab.goto("/my-steps")
    assert "Triage Backup" in tab.page.locator("[data-next-level]").first.inner_text()
    tab.shoot("my-steps")
