"""Training, the policy and the readiness board in the browser: record a completion, acknowledge the policy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery"  # the team's password (tests/conftest.py make_person)


def test_admin_records_training_and_a_person_acknowledges_the_policy(app, team, synced, open_session, runner):
    from playwright.sync_api import expect

    assert runner.invoke(args=["policy", "publish"]).exit_code == 0

    admin = open_session("10-training")
    admin.login(team.admin, PASSWORD)
    admin.goto("/training")
    admin.page.select_option("#email", team.spokes)
    admin.page.select_option("#course", "spokesperson")
    admin.page.fill("#completed_on", "2026-11-20")
    admin.page.fill("#evidence", "Workshop with the comms lead")
    admin.page.get_by_role("button", name="Record completion").click()
    expect(admin.page.locator(".flash-success")).to_contain_text("Spokes completed the course on 20 Nov 2026")
    expect(admin.page.locator("body")).to_contain_text("Overdue")
    admin.shoot("admin")

    spokes = open_session("10-policy")
    spokes.login(team.spokes, PASSWORD)
    spokes.goto("/training")
    expect(spokes.page.locator("body")).to_contain_text("Speaking for the company")
    spokes.shoot("mine")
    spokes.page.get_by_role("link", name="Speaking for the company").first.click()
    expect(spokes.page.locator("h1")).to_have_text("Speaking for the company")
    spokes.shoot("course")
    spokes.goto("/policy")
    expect(spokes.page.get_by_role("link", name="Report it here")).to_be_visible()
    spokes.page.get_by_role("button", name="I have read version 1").click()
    expect(spokes.page.locator(".flash-success")).to_contain_text("you acknowledged version 1")
    spokes.shoot("acknowledged")

    admin.goto("/policy")
    expect(admin.page.locator("h2", has_text="Not acknowledged yet")).to_have_text("Not acknowledged yet (11)")
    admin.shoot("policy-admin")
