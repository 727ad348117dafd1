"""Hardening: headers, cookies, sessions, CSRF on every form, inert user text, no debug pages, webhooks."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crisis import create_app
from crisis.admin.models import AuditEvent
from crisis.config import PROJECT_ROOT
from crisis.extensions import db
from crisis.notifications.webhooks import DeliveryRefused, add_webhook, check_url
from crisis.people.models import Person
from crisis.timeline.models import TimelineEvent
from crisis.web.formatting import markdown
from tests.support.constants import PASSWORD
from tests.support.url_map import ROUTES, _path, module_app

EVIL = (
    'Check <script>alert("guidance")</script> first. '
    "[click me](javascript:alert(1)) <img src=x onerror=alert(2)> "
    '<a href="javascript:alert(3)">there</a>'
)


# ---------------------------------------------------------------- headers


def test_security_headers_on_pages_and_api(client):
    for path in ("/login", "/api/v1/openapi.json", "/health"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
        # Plain HTTP in development: no HSTS (it would pin a browser to HTTPS on localhost).
        assert "Strict-Transport-Security" not in headers


def test_hsts_behind_https(app):
    client = app.test_client()
    response = client.get("/login", base_url="https://crisis.example.com")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_static_files_may_be_cached(client):
    response = client.get("/static/crisis.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


def test_templates_carry_no_inline_script_or_style():
    """The CSP forbids them, so they would silently not work: keep them out of every template."""
    offenders = []
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\sstyle=\"", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path))
    assert offenders == []


# ---------------------------------------------------------------- cookies and sessions


def _cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_session_and_remember_cookies_are_httponly_samesite_lax(client, make_person):
    make_person("casey@example.com")
    response = client.post("/login", data={"email": "casey@example.com", "password": PASSWORD, "remember": "y"})
    session_cookie = _cookie(response, "session")
    remember = _cookie(response, "remember_token")
    for cookie in (session_cookie, remember):
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        # Not over plain HTTP in development...
        assert "Secure" not in cookie
    # ... and remember-me lasts 14 days, not Flask-Login's default year.
    expires = datetime.strptime(re.search(r"Expires=([^;]+)", remember).group(1), "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    days = (expires - datetime.now(UTC)).days
    assert 13 <= days <= 14


def test_production_cookies_are_secure(tmp_path):
    app = create_app({"ENV": "production", "SECRET_KEY": "s" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.debug is False


def test_login_starts_a_new_session(client, make_person):
    make_person("casey@example.com")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"email": "casey@example.com", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(str(1))


def test_a_password_change_ends_other_sessions_but_keeps_this_one(app, make_person):
    make_person("casey@example.com")
    mine, other = app.test_client(), app.test_client()
    for client in (mine, other):
        client.post("/login", data={"email": "casey@example.com", "password": PASSWORD})
    response = mine.post("/account/password", data={"current": PASSWORD, "new": "another-long-secret", "confirm": "another-long-secret"})
    assert response.status_code == 302
    assert mine.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current": "wrong-password-x", "new": "another-long-secret", "confirm": "another-long-secret"}, b"current password is wrong"),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, b"The password must be at least 10 characters"),
        ({"current": PASSWORD, "new": "password123", "confirm": "password123"}, b"commonly used passwords"),
        ({"current": PASSWORD, "new": "another-long-secret", "confirm": "another-long-secreT"}, b"The two new passwords differ"),
    ],
)
def test_password_rules_on_change(app, client, make_person, form, message):
    make_person("casey@example.com")
    client.post("/login", data={"email": "casey@example.com", "password": PASSWORD})
    response = client.post("/account/password", data=form, follow_redirects=True)
    assert message in response.data
    client.post("/logout")
    # Nothing changed: the old password still works.
    assert client.post("/login", data={"email": "casey@example.com", "password": PASSWORD}).status_code == 302


# ---------------------------------------------------------------- login rate limit


def _fail(client, email: str = "casey@example.com", ip: str = "203.0.113.7"):
    return client.post("/login", data={"email": email, "password": "not-the-password"}, environ_base={"REMOTE_ADDR": ip})


def test_login_rate_limit_triggers_and_recovers(client, make_person, clock):
    make_person("casey@example.com")
    for _ in range(5):
        assert _fail(client).status_code == 401
    # The sixth attempt is refused even with the right password, without checking it.
    blocked = client.post("/login", data={"email": "casey@example.com", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins" in blocked.data
    assert b"Try again after 09:15 UTC (in 15 min)." in blocked.data
    # Another address, or another account, is not affected.
    assert client.post("/login", data={"email": "casey@example.com", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 302
    client.post("/logout")
    assert _fail(client, email="someone@example.com").status_code == 401
    # After the window the right password works again.
    clock.advance(minutes=14, seconds=59)
    assert client.post("/login", data={"email": "casey@example.com", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 429
    clock.advance(seconds=2)
    assert client.post("/login", data={"email": "casey@example.com", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 302


def test_the_rate_limit_is_in_the_database_shared_by_every_worker(app, make_person):
    """Two app instances (as two gunicorn workers would be) share the count."""
    make_person("casey@example.com")
    worker_a, worker_b = app.test_client(), create_app(dict(app.config)).test_client()
    for client in (worker_a, worker_b, worker_a, worker_b, worker_a):
        assert _fail(client).status_code == 401
    assert _fail(worker_b).status_code == 429


def test_a_success_resets_the_count(client, make_person):
    make_person("casey@example.com")
    for _ in range(4):
        _fail(client)
    assert client.post("/login", data={"email": "casey@example.com", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _fail(client).status_code == 401


# ---------------------------------------------------------------- CSRF on every form

POST_ROUTES = [(e, r, m) for e, r, m in ROUTES if m != "GET" and not r.startswith("/api/")]


def test_there_are_forms_to_check():
    assert len(POST_ROUTES) >= 10


@pytest.fixture(scope="module")
def csrf_app(postgres_database, tmp_path_factory):
    """One app with CSRF protection on, and an admin, for the whole form walk."""
    from crisis.people.service import create_person

    app = module_app(postgres_database, tmp_path_factory, WTF_CSRF_ENABLED=True)
    with app.app_context():
        create_person(email="root@example.com", name="Root", password=PASSWORD, permissions=["admin"])
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("endpoint", "rule", "method"), POST_ROUTES, ids=[f"{m} {r}" for _, r, m in POST_ROUTES])
def test_every_form_post_rejects_a_missing_csrf_token(csrf_app, endpoint, rule, method):
    app = csrf_app
    client = app.test_client()
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").data).group(1).decode()
    assert client.post("/login", data={"email": "root@example.com", "password": PASSWORD, "csrf_token": token}).status_code == 302

    def counts():
        with app.app_context():
            return [db.session.scalar(select(func.count()).select_from(model)) for model in (TimelineEvent, AuditEvent, Person)]

    before = counts()
    response = client.open(_path(app, endpoint, rule), method=method, data={"name": "x", "email": "a@example.com"})
    assert response.status_code == 400, f"{method} {rule} accepted a form without a CSRF token ({response.status_code})"
    assert b"CSRF" in response.data
    assert counts() == before
    # The admin is still signed in: the refusal was the token, not the session.
    assert client.get("/admin/").status_code == 200


# ---------------------------------------------------------------- inert user text


def test_markdown_filter_escapes_html_and_drops_javascript_links():
    html = str(markdown(EVIL))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;guidance&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert 'href="javascript:' not in html
    assert "[click me](javascript:alert(1))" in html


def test_guidance_with_script_renders_inert_on_the_playbook_and_incident_pages(app, client, login, tmp_path, team):
    from crisis.incidents.service import declare_incident
    from crisis.people.service import get_person
    from crisis.playbooks.service import sync_playbooks

    source = Path(app.config["PLAYBOOKS_DIR"]) / "viral-complaint.yaml"
    text = source.read_text().replace(
        "Capture the original post **before** anything changes",
        EVIL.replace('"', "'") + " Capture the original post",
    )
    (tmp_path / "viral-complaint.yaml").write_text(text)
    with app.app_context():
        report = sync_playbooks(directory=tmp_path)
        assert not report.problems, report.problems
        ref = declare_incident(playbook_key="viral-complaint", title="T <script>alert('title')</script>", severity="SEV2",
                               declared_by=get_person(team.lead)).ref
        db.session.commit()
    login(team.lead)
    for path in ("/playbooks/viral-complaint", f"/incidents/{ref}"):
        page = client.get(path)
        assert page.status_code == 200, path
        body = page.data.decode()
        assert "<script>alert" not in body, path
        assert 'href="javascript:' not in body, path
        assert "<img src=x" not in body, path
    assert "&lt;script&gt;alert('guidance')&lt;/script&gt;" in client.get("/playbooks/viral-complaint").data.decode()
    shutil.rmtree(tmp_path, ignore_errors=True)


# ---------------------------------------------------------------- no debug pages in production


def test_unexpected_errors_show_no_stack_trace_in_production(tmp_path):
    app = create_app({"ENV": "production", "SECRET_KEY": "s" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})

    @app.route("/boom")
    def boom():  # a deliberately broken view, only in this throw-away app
        raise RuntimeError("secret internals: password=hunter2")

    @app.route("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internals: password=hunter2")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert b"Something went wrong on our side" in page.data
    assert b"Traceback" not in page.data and b"hunter2" not in page.data
    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.json["error"]["code"] == "internal_error"
    assert b"hunter2" not in api.data


# ---------------------------------------------------------------- outbound webhooks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.0.10/hook",
        "http://172.16.5.4/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_webhooks_to_private_loopback_or_link_local_addresses_are_refused(app, url):
    with pytest.raises(DeliveryRefused):
        check_url(url, allow_private=False)
    from crisis.errors import InvalidInput
    from crisis.notifications.models import Webhook

    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            add_webhook(name="internal", url=url)
        assert error.value.field == "url"
        db.session.rollback()
        assert db.session.scalar(select(func.count(Webhook.id))) == 0
        # An admin may allow them explicitly in configuration (CRISIS_WEBHOOK_ALLOW_PRIVATE).
        assert check_url(url, allow_private=True)[0] == "http"


def test_many_failures_from_one_address_slow_the_address_whatever_the_emails(client, make_person, clock):
    # Finding 10a: the address is slowed, not locked (tests/security/test_sign_in_throttle.py has the rest).
    make_person("casey@example.com")
    for n in range(50):
        assert _fail(client, email=f"guess{n}@example.com").status_code == 401
    blocked = _fail(client, email="guess50@example.com")
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins from your address" in blocked.data
    clock.advance(minutes=15, seconds=1)
    assert _fail(client, email="guess51@example.com").status_code == 401


def test_old_failures_are_pruned(app, client, make_person, clock):
    from crisis.admin.models import LoginFailure

    for n in range(3):
        _fail(client, email=f"old{n}@example.com")
    clock.advance(minutes=20)
    _fail(client)
    with app.app_context():
        assert db.session.scalars(select(LoginFailure.email)).all() == ["casey@example.com"]


def test_webhooks_cli_refuses_private_addresses_unless_configuration_allows_them(app, runner):
    from crisis.notifications.models import Webhook

    refused = runner.invoke(args=["webhooks", "add", "internal", "http://169.254.169.254/latest"])
    assert refused.exit_code != 0
    assert "private, loopback or link-local" in refused.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Webhook.id))) == 0
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    allowed = runner.invoke(args=["webhooks", "add", "internal", "http://10.0.0.5/hook"])
    assert allowed.exit_code == 0, allowed.output
