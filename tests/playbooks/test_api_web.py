"""The playbooks API and web pages, through the test client."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crisis.extensions import db
from crisis.playbooks.service import sync_playbooks

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"


@pytest.fixture
def synced(app):
    with app.app_context():
        sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
        db.session.commit()


@pytest.fixture
def viewer(make_person):
    return make_person("viewer@example.com", permissions=["view"])


def test_api_list(synced, viewer, api_client):
    response = api_client(viewer).get("/api/v1/playbooks")
    assert response.status_code == 200
    items = {p["key"]: p for p in response.json["playbooks"]}
    assert set(items) == {"viral-complaint", "off-script-post", "wrong-price",
                          "account-takeover", "security-rumour", "product-safety"}
    assert items["account-takeover"]["version"] == 1
    assert items["account-takeover"]["default_severity"] == "SEV1"
    assert items["account-takeover"]["step_count"] == 15
    assert len(items["account-takeover"]["steps"]) == 15
    assert set(items["account-takeover"]["steps"][0]) == {"key", "title", "role"}
    assert items["account-takeover"]["loaded_at"] == "2026-11-21T09:00:00+00:00"


def test_api_detail(synced, viewer, api_client):
    response = api_client(viewer).get("/api/v1/playbooks/viral-complaint")
    assert response.status_code == 200
    body = response.json
    assert (body["key"], body["title"], body["version"]) == (
        "viral-complaint", "Viral customer complaint", 1)
    assert body["questions"][0] == {
        "key": "author", "prompt": "Who is the author? (Air Force web posting assessment)",
        "choices": ["troll", "rager", "misguided", "unhappy_customer"]}
    assert body["escalation"]["levels"][1] == {
        "level": 2, "after_seconds": 600, "after": "10m",
        "notify": ["triage_owner", "role_lead"], "channels": ["in_app", "email", "webhook"]}
    assert body["escalation"]["repeat_every"] == "30m"
    assert body["escalation"]["acknowledge_snooze_seconds"] == 900
    holding = next(s for s in body["steps"] if s["key"] == "holding-statement")
    assert holding["due"] == {"SEV1": "15m", "SEV2": "30m", "SEV3": "1h", "SEV4": "2h"}
    assert holding["due_seconds"]["SEV1"] == 900
    assert holding["approval"] == ["legal", "marketing"]
    assert holding["publishes"] is True
    assert holding["when"] == {"severities": ["SEV1", "SEV2", "SEV3"], "answers": {}}
    respond = next(s for s in body["steps"] if s["key"] == "respond-with-facts")
    assert respond["when"]["answers"] == {"author": ["misguided", "rager"], "facts_wrong": ["yes"]}
    assert respond["after"] == ["legal-marketing-review"]


def test_api_detail_of_an_older_version(app, viewer, api_client, tmp_path):
    target = tmp_path / "playbooks"
    target.mkdir()
    shutil.copy(SHIPPED / "wrong-price.yaml", target / "wrong-price.yaml")
    with app.app_context():
        sync_playbooks(directory=target)
        path = target / "wrong-price.yaml"
        path.write_text(path.read_text().replace("default_severity: SEV2", "default_severity: SEV1"))
        sync_playbooks(directory=target)
        db.session.commit()
    client = api_client(viewer)
    assert client.get("/api/v1/playbooks/wrong-price").json["version"] == 2
    old = client.get("/api/v1/playbooks/wrong-price?version=1").json
    assert (old["version"], old["is_current"], old["default_severity"]) == (1, False, "SEV2")
    bad = client.get("/api/v1/playbooks/wrong-price?version=x")
    assert bad.status_code == 400 and bad.json["error"]["field"] == "version"


def test_api_unknown_playbook_is_404_json(synced, viewer, api_client):
    response = api_client(viewer).get("/api/v1/playbooks/nope")
    assert response.status_code == 404
    assert response.json["error"] == {
        "code": "not_found", "message": "No playbook 'nope'", "field": "playbook"}


def test_api_needs_a_token(client):
    assert client.get("/api/v1/playbooks").status_code == 401


def test_api_needs_view_permission(synced, make_person, api_client):
    nobody = make_person("nobody@example.com", permissions=[])
    assert api_client(nobody).get("/api/v1/playbooks").status_code == 403


def test_openapi_describes_the_playbook_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/playbooks" in paths
    assert "/api/v1/playbooks/{key}" in paths


def test_web_list(synced, viewer, login, client):
    login(viewer)
    response = client.get("/playbooks")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hijacked or compromised brand account" in page
    assert 'href="/playbooks/viral-complaint"' in page
    assert "Sync from files" not in page  # admins only


def test_web_list_needs_login(client):
    response = client.get("/playbooks")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_web_detail_shows_steps_due_times_and_ladder(synced, viewer, login, client):
    login(viewer)
    response = client.get("/playbooks/wrong-price")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Pause and audit everything scheduled to post" in page
    assert "social-media-manager" in page
    assert "10m after due" in page and "level 3 repeats every 30m" in page
    assert "<strong>every</strong>" in page  # guidance rendered from Markdown
    assert "We made a mistake: {summary}" in page  # the statement template, escaped as text
    assert "<th>SEV4</th>" in page


def test_web_detail_unknown_is_404(synced, viewer, login, client):
    login(viewer)
    assert client.get("/playbooks/nope").status_code == 404


def test_guidance_markdown_is_safe(app, viewer, login, client, tmp_path):
    target = tmp_path / "playbooks"
    target.mkdir()
    text = (SHIPPED / "viral-complaint.yaml").read_text().replace(
        "      Capture the original post **before** anything changes",
        "      <script>alert(1)</script> [bad](javascript:alert(1)) [ftp](ftp://x.test/f)"
        " [ok](https://example.com/a) [mail](mailto:comms@example.com)\n\n"
        "      Capture the original post **before** anything changes",
    )
    (target / "viral-complaint.yaml").write_text(text)
    with app.app_context():
        report = sync_playbooks(directory=target)
        assert report.problems == []
        db.session.commit()
    login(viewer)
    page = client.get("/playbooks/viral-complaint").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert 'href="ftp://' not in page
    assert '<a href="https://example.com/a">ok</a>' in page
    assert '<a href="mailto:comms@example.com">mail</a>' in page


def test_admin_can_sync_from_the_web(make_person, login, client, app):
    admin = make_person("admin@example.com", permissions=["admin", "view"])
    login(admin)
    assert "Sync from files" in client.get("/playbooks").get_data(as_text=True)
    response = client.post("/playbooks/sync", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Playbooks synced: 6 new versions, 0 unchanged." in page
    assert "Viral customer complaint" in page


def test_non_admin_cannot_sync(viewer, login, client):
    login(viewer)
    assert client.post("/playbooks/sync").status_code == 403
