"""Incident reports: Markdown download and printable HTML, with figures, statements and review."""

from __future__ import annotations

import re
from datetime import date


def test_markdown_report_carries_facts_figures_statements_and_timeline(client, team, login, desk, incident_factory, clock):
    ref = incident_factory(title="Kettle video | trending", severity="SEV2", summary="A *viral* video.")
    clock.advance(minutes=3)
    desk.ack(ref, "gather-facts", team.lead)
    clock.advance(minutes=9)
    desk.publish_holding_statement(ref, body="We are aware of the video and are looking into it.")
    clock.advance(minutes=30)
    login(team.exec)
    response = client.get(f"/incidents/{ref}/report.md")
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    assert f'filename="{ref}-report.md"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith(f"# {ref} — Kettle video \\| trending")  # a pipe cannot break the heading
    assert "A \\*viral\\* video." in text
    assert "| Time to first acknowledgement | 3 min |" in text
    assert "| Time to holding statement (first public response) | 12 min |" in text
    assert "We are aware of the video and are looking into it." in text
    assert "<https://x.com/brand/status/1>" in text
    assert "| Gather the facts | triage-lead | Lead | acknowledged" in text or "| Gather the facts | triage-lead | Lead |" in text
    assert "**late**" in text  # gather-facts was due 15 min after declaring and is still open
    assert "`statement.published`" in text and "`incident.declared`" in text
    assert "Not written yet." in text


def test_printable_report_renders_the_same_report(client, team, login, incident_factory):
    ref = incident_factory(title="Printable")
    login(team.exec)
    page = client.get(f"/incidents/{ref}/report").get_data(as_text=True)
    assert "print.css" in page
    assert '<article class="report card">' in page
    assert f"<h1>{ref} — Printable</h1>" in page
    assert "<table>" in page  # the Markdown tables become HTML tables


def test_report_includes_the_review_once_written(app, client, team, login, desk, incident_factory, clock):
    from crisis.extensions import db
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.reviews.service import ActionInput, write_review

    ref = incident_factory()
    clock.advance(hours=3)
    desk.resolve(ref)
    with app.app_context():
        write_review(
            incident=get_incident(ref), actor=get_person(team.lead), what_happened="A kettle video spread.",
            went_well="Fast holding statement.", to_change="Earlier legal review.", training_needs="Spokesperson drills.",
            actions=[ActionInput("Update the FAQ", team.care, date(2026, 12, 1))],
        )
        db.session.commit()
    login(team.exec)
    text = client.get(f"/incidents/{ref}/report.md").get_data(as_text=True)
    assert "### What happened\n\nA kettle video spread." in text
    assert "Spokesperson drills." in text
    assert "| Update the FAQ | Care | 2026-12-01 |" in text
    assert "| Time to resolve | 3 h |" in text


def test_report_is_inert_whatever_people_typed(client, team, login, incident_factory):
    ref = incident_factory(
        title='<script>alert(1)</script> [click](javascript:alert(2))',
        summary='<img src=x onerror="alert(3)">\n| fake | table |',
    )
    login(team.exec)
    text = client.get(f"/incidents/{ref}/report.md").get_data(as_text=True)
    # Markdown-escaped (a backslash before < and ]), so no renderer turns them into markup.
    assert not re.search(r"(?<!\\)<(script|img)", text)
    assert not re.search(r"(?<!\\)\]\(javascript:", text)
    assert "\\<script\\>" in text
    page = client.get(f"/incidents/{ref}/report").get_data(as_text=True)
    article = page[page.index('<article class="report card">'):]
    assert "<script>" not in article and "<img" not in article and 'href="javascript:' not in article
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article
