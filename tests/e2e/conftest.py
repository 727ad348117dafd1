"""Browser end-to-end fixtures: the app served from this process, Debian's chromium via Playwright.

The server runs in a thread (werkzeug make_server on 127.0.0.1:0) so the frozen `clock`
fixture drives server time too. Outside CI a missing browser skips these tests with the
reason; with CI=true they must run, and a missing browser fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support.constants import ARTIFACTS
from tests.support.desks import Desk

CHROMIUM = os.environ.get("CRISIS_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
WIDTHS = (1280, 390)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser end-to-end tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright (its own browser download is not used)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"chromium not found at {CHROMIUM} (install it: bash scripts/install-system-deps.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as error:  # noqa: BLE001 - any launch failure is reported as the reason
            _unavailable(f"chromium at {CHROMIUM} did not start: {str(error).splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture
def app_config(app_config):
    # Real forms in a real browser: CSRF on, as in production. One server process serves every
    # tab of a journey, so the live render gate (one render per process in production, where a
    # turned-away part simply asks again) gets a slot per tab: the browser would log its 503s as
    # errors. The gate itself is tested in tests/live.
    return {**app_config, "WTF_CSRF_ENABLED": True, "LIVE_RENDERS_AT_ONCE": 4}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve the test app on a free loopback port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class Session:
    """One person's browser tab against the live server, with screenshot helpers."""

    def __init__(self, browser, base_url: str, journey: str) -> None:
        self.context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, accept_downloads=True)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.journey = journey
        self.errors: list[str] = []
        self.expected_statuses: set[int] = set()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def expect_status(self, status: int) -> None:
        """Declare an error status the journey provokes on purpose (a refused form, say)."""
        self.expected_statuses.add(status)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # Browsers ask for /favicon.ico on their own; the app has none, and that is fine.
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        status = re.search(r"status of (\d{3})", message.text)
        if status and int(status.group(1)) in self.expected_statuses:
            return
        self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status < 400, f"{path}: {response and response.status}"
        return response

    def login(self, email: str, password: str) -> None:
        self.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"login failed for {email}"

    def shoot(self, name: str) -> list[Path]:
        """Save full-page screenshots at 1280 px and 390 px wide; return their paths."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        paths = []
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
            path = ARTIFACTS / f"{self.journey}-{name}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
            paths.append(path)
            # Nothing may overflow sideways at phone width, except inside a scroll box.
            overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} at {width}px is {overflow}px wider than the screen"
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        return paths

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_session(browser, live_server):
    sessions: list[Session] = []

    def make(journey: str) -> Session:
        session = Session(browser, live_server, journey)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
    for session in sessions:
        # CSP violations and script errors show up here; none are expected.
        assert not session.errors, f"browser errors in {session.journey}: {session.errors}"


@pytest.fixture
def desk(app, team, synced):
    """Drive incidents through the domain services."""
    return Desk(app, team)
