"""Errors, headers, CLI for people and tokens, configuration failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crisis import create_app
from crisis.errors import ConfigError
from crisis.extensions import db
from crisis.people.models import Person

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_on_api_is_json_405(client):
    response = client.delete("/api/v1/me")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"Not found" in response.data


def test_security_headers_on_every_response(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_openapi_document_lists_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me" in document["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_users_create_and_tokens_create_through_the_cli(app, runner):
    result = runner.invoke(
        args=["users", "create", "Lee@Example.com", "--name", "Lee Legal", "--password", "a-long-passphrase",
              "--permission", "approve", "--role", "legal", "--role", "marketing:backup"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "create", "lee@example.com"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("crisis_")
    with app.app_context():
        person = db.session.scalar(db.select(Person).filter_by(email="lee@example.com"))
        assert person.permission_names == {"approve"}
        assert {(m.role, m.is_backup) for m in person.roles} == {("legal", False), ("marketing", True)}
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json["roles"] == ["legal", "marketing:backup"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--permission", "superuser"], "Unknown permission 'superuser'"),
        (["--role", "astronaut"], "no response role “astronaut”"),
        (["--password", "short"], "at least 10 characters"),
        (["--password", "password123"], "commonly used"),
    ],
)
def test_users_create_rejects_bad_input_and_creates_nothing(app, runner, args, message):
    result = runner.invoke(args=["users", "create", "x@example.com", "--name", "X", *args])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Person.id))) == 0


def test_duplicate_email_differing_in_case_is_refused(runner, make_person):
    make_person("casey@example.com")
    result = runner.invoke(args=["users", "create", "CASEY@example.com", "--name", "Other"])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_tokens_create_for_unknown_person_fails(runner):
    result = runner.invoke(args=["tokens", "create", "nobody@example.com"])
    assert result.exit_code != 0
    assert "Nobody here has that email address" in result.output


def test_bad_database_url_raises_config_error_in_the_factory():
    with pytest.raises(ConfigError, match="not a database URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "not a url", "SECRET_KEY": "x"})
    with pytest.raises(ConfigError, match="supports sqlite and postgresql"):
        create_app({"SQLALCHEMY_DATABASE_URI": "mysql://localhost/x", "SECRET_KEY": "x"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("garbage", "is not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/nothing", "cannot connect to the database"),
    ],
)
def test_run_py_with_bad_database_url_prints_one_line_and_exits_non_zero(url, expected, tmp_path):
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x", "CRISIS_SCHEDULER": "off"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--port", "1"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_production_mode_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def _client_address_seen(app) -> str:
    """Send a request as if from 10.0.0.2 claiming X-Forwarded-For 203.0.113.9; return what the app saw."""
    from flask import request

    seen = {}

    @app.get("/_client_address")
    def client_address():
        seen["address"] = request.remote_addr
        return "ok"

    app.test_client().get(
        "/_client_address", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    return seen["address"]


def test_forwarded_headers_are_ignored_unless_proxies_are_configured(app_config):
    assert _client_address_seen(create_app(app_config)) == "10.0.0.2"
    assert _client_address_seen(create_app({**app_config, "PROXY_HOPS": 1})) == "203.0.113.9"


@pytest.mark.parametrize("command", [["playbooks", "sync"], ["db", "upgrade"], ["incidents", "list"]])
def test_cli_with_an_unreachable_database_prints_one_line_and_exits_non_zero(command, tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing", "SECRET_KEY": "x"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "crisis", *command], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "cannot connect to the database" in lines[0]


def test_a_dotenv_file_configures_an_entry_point(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"CRISIS_COMPANY_NAME=From Dotenv\nDATABASE_URL=sqlite:///{tmp_path}/d.db\nSECRET_KEY=k\n")
    monkeypatch.chdir(tmp_path)
    for name in ("CRISIS_COMPANY_NAME", "DATABASE_URL", "SECRET_KEY"):
        # setenv first, so monkeypatch also undoes what load_dotenv puts into os.environ.
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    app = create_app()
    assert app.config["COMPANY_NAME"] == "From Dotenv"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/d.db"
