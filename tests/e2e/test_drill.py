"""A drill from start to report in the browser: start from a scenario, an inject arrives, end it, read the score."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery"  # the team's password (tests/conftest.py make_person)


def test_lead_runs_a_drill_from_start_to_report(app, team, synced, open_session, clock):
    from playwright.sync_api import expect

    from crisis.extensions import db
    from crisis.incidents.service import complete_step, get_incident
    from crisis.people.service import get_person
    from crisis.readiness.sweep import run_readiness_sweep

    tab = open_session("9-drill")
    tab.login(team.lead, PASSWORD)
    tab.goto("/drills")
    expect(tab.page.locator("h1")).to_have_text("Drills")
    tab.shoot("scenarios")
    card = tab.page.locator("article.card", has_text="A kettle complaint goes viral")
    card.get_by_role("button", name="Start this drill").click()
    expect(tab.page.locator(".flash-success")).to_contain_text("Drill started: A kettle complaint goes viral")
    ref = tab.page.url.rsplit("/", 1)[-1]
    assert ref.startswith("INC-")

    clock.advance(minutes=10)
    with app.app_context():
        assert run_readiness_sweep().injects == 1
        complete_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(team.lead), note="Facts in")
        db.session.commit()
    tab.goto(f"/incidents/{ref}")
    expect(tab.page.locator("body")).to_contain_text("The post passes 10,000 shares")
    tab.shoot("incident")

    tab.page.get_by_role("link", name="drill: run and report").click()
    expect(tab.page.locator("h1")).to_have_text("Drill report: A kettle complaint goes viral")
    clock.advance(minutes=5)
    tab.page.get_by_role("button", name="End the drill now").click()
    expect(tab.page.locator(".flash-success")).to_contain_text("Drill ended early")
    # gather-facts done at 10 min (due 15): on time; the holding statement (due 30) and
    # assess-and-classify (due 20) were not done when the drill ended.
    expect(tab.page.locator("h2", has_text="Score")).to_have_text("Score: 33% of steps on time")
    expect(tab.page.locator("body")).to_contain_text("This is the first completed run of this scenario.")
    expect(tab.page.get_by_role("button", name="End the drill now")).to_have_count(0)
    tab.shoot("report")

    tab.goto("/readiness")
    expect(tab.page.locator("body")).to_contain_text("33% on time")
    tab.shoot("board")
