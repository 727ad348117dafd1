"""Every GET page of the app, for an admin, the responders and an executive, at 1280 and 390 px.

The pages come from the app's URL map (every GET rule but API, static, live fragments and
downloads), each filled in with the demo data, so a page no link leads to is checked too. Each
page a person may open is checked with axe-core (no serious or critical violation) and for
sideways scrolling at 390 px.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import url_for

from crisis.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

PERSONAS = (
    "admin@example.com",
    "comms.lead@example.com",  # comms lead and triage lead
    "social@example.com",  # a step owner
    "legal@example.com",  # an approver
    "spokesperson@example.com",
    "exec@example.com",
)
WIDTHS = (1280, 390)
# Not pages a person looks at: machine answers, downloads and the fragments live pages swap in.
SKIPPED_BLUEPRINTS = {"api", "live"}
SKIPPED_ENDPOINTS = {
    "static", "health.health", "people.login", "executive.dashboard_fragment",
    "executive.incident_timeline_fragment", "executive.report_markdown", "executive.timeline_csv",
    "executive.timeline_json",
}


@pytest.fixture
def demo(app, synced):
    """The demo team and incidents, a statement waiting for legal and marketing, a reported alert."""
    from crisis.alerts.service import report_alert
    from crisis.demo import seed_demo
    from crisis.extensions import db
    from crisis.incidents.models import Incident
    from crisis.people.service import get_person
    from crisis.statements import service as statements
    from crisis.training.courses import courses

    with app.app_context():
        seed_demo()
        incidents = list(db.session.query(Incident))
        viral = next(i for i in incidents if not i.is_drill)
        drill = next(i for i in incidents if i.is_drill)
        social = get_person("social@example.com")
        statement = statements.draft_statement(
            incident=viral, actor=social, platform="tiktok", step_key="holding-statement"
        )
        statements.submit_statement(statement=statement, actor=social)
        alert = report_alert(
            reporter=social, url="https://www.tiktok.com/@someone/video/7301234567890123456",
            concern="A second video about the same order is spreading fast.",
        )
        db.session.commit()
        return {
            "ref": viral.ref, "drill_ref": drill.ref, "statement_id": statement.id, "alert_id": alert.id,
            "person_id": social.id, "playbook": viral.playbook_version.key, "course": next(iter(courses())),
        }


def _values(endpoint: str, arguments: set[str], demo: dict) -> dict:
    values = {}
    for name in arguments:
        if name == "ref":
            values[name] = demo["drill_ref"] if endpoint.startswith("drills.") else demo["ref"]
        elif name == "key":
            values[name] = demo["course"] if endpoint.startswith("training.") else demo["playbook"]
        else:
            values[name] = demo[name]
    return values


def _pages(app, demo: dict) -> list[str]:
    """One demo URL for every GET page of the app."""
    paths = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            endpoint = rule.endpoint
            if "GET" not in rule.methods or endpoint in SKIPPED_ENDPOINTS:
                continue
            if endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
                continue
            paths.append(url_for(endpoint, **_values(endpoint, set(rule.arguments), demo)))
    return paths


def test_the_sweep_covers_every_page_of_the_url_map(app, demo):
    pages = _pages(app, demo)
    assert len(pages) >= 35, pages
    for expected in ("/admin/people/", "/alerts/", "/statements/", "/drill-report", "/training/courses/", "/review"):
        assert any(expected in page for page in pages), expected


@pytest.mark.parametrize("email", PERSONAS)
def test_every_page_passes_axe_and_fits_a_phone(app, demo, browser, live_server, email):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.fill("#email", email)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        checked, problems = set(), []
        for path in _pages(app, demo):
            response = page.goto(live_server + path)
            # Pages this person may not open (403) are someone else's; a redirect lands on a page checked once.
            if response is None or response.status >= 400 or "text/html" not in response.headers.get("content-type", ""):
                assert response is None or response.status in (403, 404, 409), f"{path}: {response and response.status}"
                continue
            landed = urlsplit(page.url).path
            if landed in checked:
                continue
            checked.add(landed)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
                results = axe.run(page, options={"resultTypes": ["violations"]})
                for violation in results.response["violations"]:
                    if violation["impact"] in ("serious", "critical"):
                        targets = [node["target"] for node in violation["nodes"][:3]]
                        problems.append(f"{path} at {width}px: {violation['id']} ({violation['impact']}) {targets}")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems.append(f"{path} at {width}px is {overflow}px wider than the screen")
        assert len(checked) >= 8, checked
        assert not problems, "\n".join(problems)
    finally:
        context.close()
