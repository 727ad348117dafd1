"""Live pages in a real browser: changes made elsewhere appear without a reload.

"Elsewhere" is this test process writing through the domain services, as another web worker
or the scheduler process would: the browser learns of it only through the database's change
stamps (crisis.live). Playwright's expect polls until its timeout: the pages must show each
change within LIVE_WITHIN_MS, the promise of issue 17.
"""

from __future__ import annotations

import pytest

from crisis.extensions import db
from tests.support.browser import refuse_blank_block_reason
from tests.support.constants import PASSWORD

pytestmark = pytest.mark.e2e

LIVE_WITHIN_MS = 2_000


@pytest.fixture
def act(app, team):
    """Run one domain action as `email` in its own committed transaction."""

    def run(action, email=None):
        from crisis.incidents.service import get_incident
        from crisis.people.service import get_person

        with app.app_context():
            action(get_incident, get_person(email or team.lead))
            db.session.commit()

    return run


def _mark_not_reloaded(tab) -> None:
    tab.page.evaluate("window.__notReloaded = true")


def _assert_not_reloaded(tab) -> None:
    assert tab.page.evaluate("window.__notReloaded") is True, "the page was reloaded"


def test_open_incident_page_shows_a_note_a_completion_and_an_escalation_made_elsewhere(
    app, team, incident_factory, open_session, act, clock
):
    from playwright.sync_api import expect

    from crisis.escalation.engine import run_sweep
    from crisis.incidents.service import add_note, complete_step

    ref = incident_factory(title="Kettle video going viral", severity="SEV2")
    viewers = []
    for journey, email in (("live-exec", team.exec), ("live-lead", team.lead)):
        tab = open_session(journey)
        tab.login(email, PASSWORD)
        tab.goto(f"/incidents/{ref}")
        _mark_not_reloaded(tab)
        viewers.append(tab)

    act(lambda get, me: add_note(incident=get(ref), actor=me, text="Customer agreed to a call at noon."))
    for tab in viewers:
        expect(tab.page.locator("#recent-events")).to_contain_text("Customer agreed to a call", timeout=LIVE_WITHIN_MS)

    act(lambda get, me: complete_step(incident=get(ref), step_key="gather-facts", actor=me, note="Video is genuine."))
    for tab in viewers:
        expect(tab.page.locator("#step-gather-facts")).to_contain_text("done", timeout=LIVE_WITHIN_MS)

    clock.advance(minutes=45)
    with app.app_context():  # the scheduler's sweep, as another process would run it
        run_sweep()
        db.session.commit()
    for tab in viewers:
        expect(tab.page.locator("#steps .level").first).to_contain_text("escalation level", timeout=LIVE_WITHIN_MS)
        expect(tab.page.locator("#recent-events")).to_contain_text("escalated", timeout=LIVE_WITHIN_MS)
        _assert_not_reloaded(tab)
    viewers[1].shoot("incident")


def test_bell_count_rises_and_my_steps_gain_a_step_handed_over_elsewhere(
    app, team, incident_factory, open_session, act
):
    from playwright.sync_api import expect

    from crisis.incidents.service import assign_step
    from crisis.notifications.service import notify

    ref = incident_factory(title="Wrong price in a paid ad")
    tab = open_session("live-bell")
    tab.login(team.social, PASSWORD)
    tab.goto("/my-steps")
    _mark_not_reloaded(tab)
    expect(tab.page.locator("#my-steps")).not_to_contain_text("Gather the facts")
    badge = tab.page.locator("#bell-count .badge")
    before = int(badge.inner_text()) if badge.count() else 0

    act(lambda get, me: notify(recipients=[me], subject="Look at the ad", body="The price is wrong.", incident=get(ref),
                               dedup_key="live-bell-1", channels=("in_app",)), email=team.social)
    expect(badge).to_have_text(str(before + 1), timeout=LIVE_WITHIN_MS)

    act(lambda get, me: assign_step(incident=get(ref), step_key="gather-facts", actor=me, owner_email=team.social))
    expect(tab.page.locator("#my-steps")).to_contain_text("Gather the facts", timeout=LIVE_WITHIN_MS)
    _assert_not_reloaded(tab)
    tab.shoot("my-steps")


def test_dashboard_shows_an_incident_declared_elsewhere(team, incident_factory, open_session):
    from playwright.sync_api import expect

    tab = open_session("live-dashboard")
    tab.login(team.exec, PASSWORD)
    tab.goto("/dashboard")
    _mark_not_reloaded(tab)
    incident_factory(title="Executive's off-script post")
    expect(tab.page.locator("#board")).to_contain_text("Executive's off-script post", timeout=LIVE_WITHIN_MS)
    _assert_not_reloaded(tab)
    tab.shoot("dashboard")


def test_typing_a_note_is_not_wiped_by_a_change(app, team, incident_factory, open_session, act):
    from playwright.sync_api import expect

    from crisis.incidents.service import add_note

    ref = incident_factory(title="Kettle video going viral")
    tab = open_session("live-typing")
    tab.login(team.lead, PASSWORD)
    tab.goto(f"/incidents/{ref}")
    field = tab.page.get_by_label("Note for Gather the facts")
    field.fill("Half-typed thought")
    act(lambda get, me: add_note(incident=get(ref), actor=me, text="Someone else's note."))
    expect(tab.page.locator("#recent-events")).to_contain_text("Someone else's note", timeout=LIVE_WITHIN_MS)
    # The steps part waits while the person types in it; what they typed stays.
    expect(field).to_have_value("Half-typed thought")


def test_pages_work_without_javascript(browser, live_server, team, incident_factory):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/login")
        page.fill("#email", team.lead)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        ref = incident_factory(title="Kettle video going viral")
        page.goto(f"{live_server}/incidents/{ref}")
        page.fill("#note-text", "Noted without JavaScript.")
        page.get_by_role("button", name="Add note").click()
        page.wait_for_load_state()
        assert "Noted without JavaScript." in page.locator("#recent-events").inner_text()
        for path in ("/dashboard", "/my-steps"):
            assert page.goto(live_server + path).status == 200
    finally:
        context.close()


def test_a_refused_form_is_not_replaced_by_a_live_update_until_it_is_sent(
    app, team, incident_factory, open_session, act
):
    from playwright.sync_api import expect

    from crisis.incidents.service import add_note
    from crisis.notifications.service import notify

    ref = incident_factory(title="Kettle video going viral")
    tab = open_session("live-refused")
    tab.expect_status(422)
    tab.login(team.lead, PASSWORD)
    tab.goto(f"/incidents/{ref}")
    error = refuse_blank_block_reason(tab, ref)  # refused in the steps part
    expect(error).to_have_text("Give a reason.")
    tab.page.locator("h1").click()  # nothing focused: only the refusal holds the part back
    badge = tab.page.locator("#bell-count .badge")
    before = int(badge.inner_text()) if badge.count() else 0

    act(lambda get, me: add_note(incident=get(ref), actor=me, text="Second video spotted"), email=team.social)
    act(lambda get, me: notify(recipients=[me], subject="Look at the video", body="It spreads.", incident=get(ref),
                               dedup_key="live-refused-1", channels=("in_app",)))
    # The bell moving shows a poll and its swaps ran after the note; the refusal is still there.
    expect(badge).to_have_text(str(before + 1), timeout=LIVE_WITHIN_MS)
    tab.page.wait_for_load_state("networkidle")  # that tick's incident fetch has landed too
    expect(error).to_have_text("Give a reason.")
