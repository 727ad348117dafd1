"""Every page an admin, a responder and an executive can reach with the demo data, at 1280 and 390 px.

Each page is opened by following links from where the person lands (one page per URL shape), then
checked with axe-core (no serious or critical violation) and for sideways scrolling at 390 px.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from crisis.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

PERSONAS = ("admin@example.com", "comms.lead@example.com", "exec@example.com")
WIDTHS = (1280, 390)
# Downloads, machine answers and actions are not pages to look at.
SKIP = re.compile(r"^/(static|api)/|/logout|\.(csv|json|md|svg|txt)$|/export|/download")
MAX_PAGES = 80


@pytest.fixture
def demo(app, synced):
    """The demo team and incidents, plus a statement waiting for legal and marketing."""
    from crisis.demo import seed_demo
    from crisis.extensions import db
    from crisis.incidents.models import Incident
    from crisis.people.service import get_person
    from crisis.statements import service as statements

    with app.app_context():
        seed_demo()
        viral = next(i for i in db.session.query(Incident) if not i.is_drill)
        statement = statements.draft_statement(
            incident=viral, actor=get_person("social@example.com"), platform="tiktok", step_key="holding-statement"
        )
        statements.submit_statement(statement=statement, actor=get_person("social@example.com"))
        db.session.commit()


def _shape(path: str) -> str:
    """One page per URL shape: INC-2026-0001 and numbers stand for any."""
    return re.sub(r"\d+", "N", path)


def _crawl(page, base: str, start: str) -> list[str]:
    seen, queue, pages = set(), [start], []
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0)
        if _shape(path) in seen:
            continue
        seen.add(_shape(path))
        response = page.goto(base + path)
        if response is None or response.status >= 400 or "text/html" not in response.headers.get("content-type", ""):
            continue
        pages.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlsplit(urljoin(base + path, href))
            if target.netloc != urlsplit(base).netloc or SKIP.search(target.path):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages


@pytest.mark.parametrize("email", PERSONAS)
def test_every_reachable_page_passes_axe_and_fits_a_phone(app, demo, browser, live_server, email):
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
        start = urlsplit(page.url).path
        pages = _crawl(page, live_server, start)
        assert len(pages) >= 8, pages
        problems = []
        for path in pages:
            page.goto(live_server + path)
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
        assert not problems, "\n".join(problems)
    finally:
        context.close()
