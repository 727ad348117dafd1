"""Four journeys in a real browser: declare, work a step, escalation, the executive's view."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crisis.extensions import db
from crisis.timeline.models import TimelineEvent
from tests.support.constants import ARTIFACTS, PASSWORD
from tests.support.incidents import sweep as _sweep

pytestmark = pytest.mark.e2e


def test_comms_lead_declares_an_incident_from_a_playbook(app, team, synced, open_session):
    from playwright.sync_api import expect

    tab = open_session("1-declare")
    tab.login(team.lead, PASSWORD)
    tab.goto("/incidents/new")
    tab.shoot("form")
    tab.page.check("input[name=playbook][value=viral-complaint]")
    tab.page.fill("#title", "Kettle video going viral on TikTok")
    tab.page.select_option("#severity", "SEV2")
    tab.page.fill("#summary", "A customer's video of a broken kettle has 200k views and climbing.")
    tab.page.fill("#links", "https://www.tiktok.com/@someone/video/123")
    tab.page.get_by_role("button", name="Declare").click()
    tab.page.wait_for_url("**/incidents/INC-*")
    expect(tab.page.locator(".flash-success")).to_contain_text("declared")
    expect(tab.page.locator("h1")).to_contain_text("Kettle video going viral on TikTok")
    tab.shoot("incident")

    from crisis.incidents.models import Incident

    with app.app_context():
        incident = db.session.scalar(select(Incident))
        assert incident.title == "Kettle video going viral on TikTok"
        assert incident.severity == "SEV2" and incident.declared_by.email == team.lead
        assert [link.url for link in incident.links] == ["https://www.tiktok.com/@someone/video/123"]
        assert {s.key for s in incident.steps if s.status == "active"} >= {"gather-facts", "holding-statement"}


def test_step_owner_acknowledges_and_completes_from_my_steps(app, team, incident_factory, open_session, clock):
    from playwright.sync_api import expect

    from crisis.incidents.service import assign_step, get_incident
    from crisis.people.service import get_person

    ref = incident_factory(title="Kettle video going viral")
    with app.app_context():  # the lead hands the first step to the social media manager
        assign_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(team.lead), owner_email=team.social)
        db.session.commit()
    clock.advance(minutes=2)

    tab = open_session("2-my-steps")
    tab.login(team.social, PASSWORD)
    tab.goto("/my-steps")
    row = tab.page.locator("tr", has_text="Gather the facts")
    expect(row).to_contain_text(ref)
    expect(row).to_contain_text("due in 13 min")
    tab.shoot("before")
    row.get_by_role("button", name="Acknowledge").click()
    expect(tab.page.locator(".flash-success")).to_contain_text("Acknowledged")
    row = tab.page.locator("tr", has_text="Gather the facts")
    expect(row).to_contain_text("acknowledged")
    tab.shoot("acknowledged")
    clock.advance(minutes=5)
    row.get_by_label("Note for Gather the facts").fill("Video is genuine; 200k views; customer contacted support twice.")
    row.get_by_role("button", name="Done").click()
    expect(tab.page.locator(".flash-success")).to_contain_text("Completed")
    expect(tab.page.locator("tr", has_text="Gather the facts")).to_have_count(0)
    tab.shoot("completed")

    with app.app_context():
        step = get_incident(ref).step("gather-facts")
        assert step.status == "done" and step.completed_by.email == team.social
        assert step.note == "Video is genuine; 200k views; customer contacted support twice."
        kinds = db.session.scalars(
            select(TimelineEvent.kind).where(TimelineEvent.data["step"].as_string() == "gather-facts")
        ).all()
        assert kinds.count("step.acknowledged") == 1 and kinds.count("step.completed") == 1


def test_overdue_step_escalates_after_a_sweep(app, team, incident_factory, open_session, clock):
    from playwright.sync_api import expect

    ref = incident_factory(title="Wrong price in the weekend ad", severity="SEV2")
    tab = open_session("3-escalation")
    tab.login(team.lead, PASSWORD)
    tab.goto(f"/incidents/{ref}")
    step = tab.page.locator("#step-gather-facts")
    expect(step).to_contain_text("due in 15 min")
    expect(step.locator(".level")).to_have_count(0)
    tab.shoot("before")

    clock.advance(minutes=16)  # gather-facts was due 15 min after declaring
    _sweep(app)
    tab.page.reload()
    step = tab.page.locator("#step-gather-facts")
    expect(step).to_contain_text("overdue by 1 min")
    expect(step.locator(".level")).to_contain_text("1")
    expect(tab.page.locator("#timeline")).to_contain_text("step escalated")
    tab.shoot("escalated")
    tab.goto("/my-steps")
    expect(tab.page.locator("tr", has_text="Gather the facts")).to_contain_text("escalated L1")
    tab.shoot("my-steps")

    with app.app_context():
        escalations = db.session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "step.escalated")).all()
        assert [e.data["step"] for e in escalations] == ["gather-facts"]
        assert escalations[0].data["level"] == 1


def test_executive_sees_the_late_step_and_downloads_the_report(app, team, desk, incident_factory, open_session, clock):
    from playwright.sync_api import expect

    calm = incident_factory(title="Off-script post by our CFO", severity="SEV3")
    ref = incident_factory(title="Kettle video going viral", severity="SEV1")
    clock.advance(minutes=3)
    desk.ack(ref, "gather-facts", team.lead)
    desk.publish_holding_statement(ref, body="We have seen the video and are looking into it with the customer.")
    clock.advance(minutes=20)
    _sweep(app)

    tab = open_session("4-executive")
    tab.login(team.exec, PASSWORD)
    tab.goto("/dashboard")
    board = tab.page.locator("#board")
    expect(board).to_contain_text(ref)
    expect(board).to_contain_text(calm)
    expect(board.locator("tr", has_text=ref)).to_contain_text("late")
    expect(board.locator("tr", has_text=ref)).to_contain_text("level")
    tab.shoot("dashboard")

    board.get_by_role("link", name=ref).click()
    tab.page.wait_for_url(f"**/incidents/{ref}/timeline")
    expect(tab.page.locator(".late-list")).to_contain_text("Gather the facts")
    expect(tab.page.locator("svg.tl-chart .tl-late").first).to_be_visible()
    expect(tab.page.locator("svg.tl-chart .tl-escalation").first).to_be_attached()
    expect(tab.page.locator("body")).to_contain_text("We have seen the video")
    tab.shoot("timeline")

    tab.page.get_by_role("link", name="Escalations").click()
    expect(tab.page.locator("ol.timeline li").first).to_contain_text("step escalated")
    expect(tab.page.locator("ol.timeline li", has_text="incident.declared")).to_have_count(0)

    with tab.page.expect_download() as download_info:
        tab.page.get_by_role("link", name="Report (.md)").click()
    download = download_info.value
    assert download.suggested_filename == f"{ref}-report.md"
    saved = ARTIFACTS / f"4-executive-{ref}-report.md"
    download.save_as(str(saved))
    report = saved.read_text(encoding="utf-8")
    assert report.startswith(f"# {ref} — Kettle video going viral")
    assert "| Time to first acknowledgement | 3 min |" in report
    assert "**late**" in report and "We have seen the video" in report

    tab.page.get_by_role("link", name="Report", exact=True).click()
    expect(tab.page.locator("article.report")).to_contain_text("Response figures")
    tab.shoot("report")
    tab.page.emulate_media(media="print")  # print.css: no navigation or buttons on paper
    expect(tab.page.locator(".topbar")).to_be_hidden()
    expect(tab.page.get_by_role("link", name="Download Markdown")).to_be_hidden()
    tab.page.pdf(path=str(ARTIFACTS / "4-executive-report.pdf"))
    tab.page.emulate_media(media="screen")

    tab.goto("/metrics")
    expect(tab.page.locator(".charts svg.bar-chart").first).to_be_visible()
    expect(tab.page.locator("body")).to_contain_text("viral-complaint")
    tab.shoot("metrics")

    # The executive can look at everything and change nothing: no action buttons on the incident.
    tab.goto(f"/incidents/{ref}")
    expect(tab.page.get_by_role("button", name="Complete")).to_have_count(0)
    tab.shoot("incident-read-only")

