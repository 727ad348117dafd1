"""The timeline page reloads its live region by itself while the incident is open."""

from __future__ import annotations

import pytest

from tests.support.constants import PASSWORD
from tests.support.incidents import sweep as _sweep

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(app_config):
    # The live region reloads every second here, so the test sees it happen without waiting long.
    return {**app_config, "TIMELINE_REFRESH_SECONDS": 1}


def test_open_timeline_refreshes_itself_when_a_step_escalates(app, team, incident_factory, open_session, clock):
    from playwright.sync_api import expect

    ref = incident_factory(title="Account takeover rumour", severity="SEV2")
    tab = open_session("5-live")
    tab.login(team.exec, PASSWORD)
    tab.goto(f"/incidents/{ref}/timeline")
    expect(tab.page.locator(".late-list")).to_have_count(0)
    tab.page.evaluate("window.__notReloaded = true")

    clock.advance(minutes=16)
    _sweep(app)
    # crisis.js swaps in /incidents/<ref>/timeline/live: the late step and the escalation appear.
    expect(tab.page.locator(".late-list")).to_contain_text("Gather the facts", timeout=8_000)
    expect(tab.page.locator("ol.timeline")).to_contain_text("step escalated")
    assert tab.page.evaluate("window.__notReloaded") is True
    tab.shoot("refreshed")
