"""After resolution the comms lead writes the post-incident review; only then can a SEV2 close."""

from __future__ import annotations

import pytest

from tests.support.constants import PASSWORD

pytestmark = pytest.mark.e2e


def test_lead_writes_the_review_then_closes_the_incident(app, team, desk, incident_factory, open_session, clock):
    from playwright.sync_api import expect

    from crisis.incidents.service import get_incident
    from crisis.reviews.service import get_review

    ref = incident_factory(title="Kettle video going viral", severity="SEV2")
    clock.advance(hours=3)
    desk.resolve(ref)

    tab = open_session("6-review")
    tab.expect_status(409)  # closing without a review is refused
    tab.login(team.lead, PASSWORD)
    tab.goto(f"/incidents/{ref}")
    tab.page.select_option("#status", "closed")
    tab.page.get_by_role("button", name="Save changes").click()
    # Refused beside the status field: no review yet.
    expect(tab.page.locator("#change-status-error")).to_contain_text("review")

    tab.goto(f"/incidents/{ref}/timeline")
    tab.page.get_by_role("link", name="Post-incident review").click()
    expect(tab.page.locator(".warning-banner")).to_contain_text("closed only once its review is written")
    tab.page.fill("#what_happened", "A customer's kettle video reached 2M views in three hours.")
    tab.page.fill("#went_well", "Holding statement out in 12 minutes.")
    tab.page.fill("#to_change", "Legal on the weekend rota.")
    tab.page.fill("#training_needs", "On-camera practice for the regional spokespeople.")
    tab.page.fill("#ad1", "Add legal to the weekend rota")
    tab.page.fill("#ao1", team.legal)
    tab.page.fill("#au1", "2026-12-05")
    tab.page.fill("#ad2", "Rehearse the product-safety playbook")
    tab.page.fill("#ao2", team.hr)
    tab.page.fill("#au2", "not a date")  # browsers send what a date field holds; the server says why
    tab.shoot("form")
    tab.expect_status(422)
    tab.page.get_by_role("button", name="Save review").click()
    expect(tab.page.locator(".flash-error")).to_contain_text("Give the due date as a date")
    expect(tab.page.locator("#training_needs")).to_have_value("On-camera practice for the regional spokespeople.")
    tab.page.fill("#au2", "2026-12-20")
    tab.page.get_by_role("button", name="Save review").click()
    expect(tab.page.locator(".flash-success")).to_contain_text("Review of")
    expect(tab.page.locator("#ad2")).to_have_value("Rehearse the product-safety playbook")
    tab.shoot("saved")

    tab.goto(f"/incidents/{ref}")
    tab.page.select_option("#status", "closed")
    tab.page.get_by_role("button", name="Save changes").click()
    expect(tab.page.locator(".flash-error")).to_have_count(0)

    tab.goto("/reviews")
    expect(tab.page.locator("body")).to_contain_text("On-camera practice for the regional spokespeople.")
    tab.shoot("overview")

    # Closed: an amendment needs a reason, and lands as a new version in the history.
    clock.advance(hours=20)
    tab.goto(f"/incidents/{ref}/review")
    tab.page.fill("#went_well", "Holding statement out in 12 minutes; replies within the hour.")
    tab.page.fill("#reason", "Care's reply times were missing from the first draft.")
    tab.page.get_by_role("button", name="Update review").click()
    expect(tab.page.locator(".review-history")).to_contain_text("Version 2")
    expect(tab.page.locator(".review-history")).to_contain_text("Care's reply times were missing")
    tab.shoot("amended")

    with app.app_context():
        incident = get_incident(ref)
        assert incident.status == "closed"
        review = get_review(incident)
        assert [(a.description, a.owner.email, a.due_on.isoformat()) for a in review.actions] == [
            ("Add legal to the weekend rota", team.legal, "2026-12-05"),
            ("Rehearse the product-safety playbook", team.hr, "2026-12-20"),
        ]
