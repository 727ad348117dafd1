"""Probe finding 3: a lost database connection is a JSON 503 (API) or the error page (web),
never the server's bare HTML, and the app recovers without a restart (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from crisis.extensions import db
from crisis.timeline.models import TimelineEvent


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite connections are not lost")


@pytest.fixture
def kill_my_connection(database_url):
    """Terminate the PostgreSQL backend of the current session's connection, as a failover would."""
    killer = create_engine(database_url)

    def kill() -> None:
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    yield kill
    killer.dispose()


@pytest.fixture
def dying_app(app, kill_my_connection):
    """The app with two extra routes whose connection dies mid-request (one API, one page)."""

    def die():
        kill_my_connection()
        db.session.execute(text("SELECT 1"))  # the first use of the dead connection
        return "unreachable"

    def die_signed_in():
        from flask_login import current_user

        assert current_user.name  # the person is loaded before the connection dies, as in most views
        return die()

    def die_after_commit():
        kill_my_connection()
        return "ok"  # the teardown's rollback meets the dead connection

    app.add_url_rule("/api/v1/test/die", view_func=die, endpoint="api_die", methods=["GET", "POST"])
    app.add_url_rule("/test/die", view_func=die, endpoint="web_die")
    app.add_url_rule("/test/die-after", view_func=die_after_commit, endpoint="web_die_after")
    app.add_url_rule("/test/die-signed-in", view_func=die_signed_in, endpoint="web_die_signed_in")
    return app


def test_the_api_answers_json_503_with_retry_after_then_recovers(dying_app, team, api_client, postgres_only):
    client = dying_app.test_client()
    response = client.get("/api/v1/test/die")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["code"] == "database_unavailable"
    viewer = api_client(team.viewer)
    assert viewer.get("/api/v1/me").status_code == 200  # no restart needed


def test_a_page_answers_the_web_error_page_then_recovers(dying_app, team, login, client, postgres_only):
    login(team.viewer)
    response = client.get("/test/die")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "database could not be reached" in page and "<html" in page.lower()
    assert client.get("/dashboard").status_code == 200


def test_the_error_page_keeps_the_menu_of_a_person_loaded_before_the_connection_died(
    dying_app, team, login, client, postgres_only
):
    login(team.viewer)
    response = client.get("/test/die-signed-in")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "database could not be reached" in page and "<html" in page.lower()
    assert 'href="/alerts"' in page  # the signed-in menu, which asks for the person's permissions


def test_a_dead_connection_at_teardown_does_not_escape_the_app(dying_app, team, login, client, postgres_only):
    login(team.viewer)
    assert client.get("/test/die-after").status_code == 200
    assert client.get("/dashboard").status_code == 200


def test_killing_every_connection_under_writes_gives_no_html_and_no_double_write(
    app, team, incident_factory, api_client, database_url, postgres_only
):
    """Every answer is JSON; a note whose answer was lost is not written again by its retry."""
    ref = incident_factory()
    lead = api_client(team.lead)
    killer = create_engine(database_url)
    answers = []
    for number in range(12):
        if number % 3 == 1:
            with killer.connect() as connection:
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ))
        body = {"text": f"Note {number}"}
        headers = {"Idempotency-Key": f"note-{number}"}
        response = lead.post(f"/api/v1/incidents/{ref}/notes", json=body, headers=headers)
        answers.append(response.status_code)
        assert response.is_json, response.get_data(as_text=True)[:200]
        if response.status_code == 503:
            assert response.headers["Retry-After"].isdigit()
            retry = lead.post(f"/api/v1/incidents/{ref}/notes", json=body, headers=headers)
            assert retry.status_code == 201, retry.get_data(as_text=True)
    killer.dispose()
    with app.app_context():
        notes = db.session.scalars(select(TimelineEvent.summary).where(TimelineEvent.kind == "incident.note")).all()
        counted = db.session.scalar(select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "incident.note"))
    assert counted == 12, (answers, notes)


@pytest.fixture
def served(app):
    """The app on a threaded loopback server, as a WSGI server would run it."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lost-connection-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def _post(url: str, body: dict, headers: dict) -> tuple[int, str, str]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def test_killing_connections_under_concurrent_writes_loses_nothing_and_doubles_nothing(
    app, team, incident_factory, api_client, database_url, served, postgres_only
):
    """Four writers retry each note with its key until answered, while every connection is killed
    again and again: every answer is JSON, and each note is stored exactly once."""
    import threading
    import time

    ref = incident_factory()
    token = api_client(team.lead).token
    url = f"{served}/api/v1/incidents/{ref}/notes"
    answers: list[tuple[int, str]] = []
    done = threading.Event()

    def writer(number: int) -> None:
        for note in range(8):
            key, body = f"w{number}-n{note}", {"text": f"Writer {number}, note {note}"}
            for _attempt in range(200):
                status, content_type, text = _post(url, body, {"Authorization": f"Bearer {token}", "Idempotency-Key": key})
                answers.append((status, content_type))
                if status != 503:
                    break
            assert status in (201, 409), text  # 409: saved, but its first answer was lost

    def killer() -> None:
        engine = create_engine(database_url)
        for _round in range(20):  # then stop, so every writer gets through in the end
            if done.is_set():
                break
            with engine.connect() as connection:
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ))
            time.sleep(0.2)  # wall-clock pacing of the fault, not of the app's clock
        engine.dispose()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    kill = threading.Thread(target=killer)
    kill.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=240)
    done.set()
    kill.join(timeout=30)
    assert all(content_type.startswith("application/json") for _, content_type in answers), answers
    with app.app_context():
        summaries = db.session.scalars(select(TimelineEvent.summary).where(TimelineEvent.kind == "incident.note")).all()
    notes = [s for s in summaries if "Writer" in s]
    assert len(notes) == 32 and len(set(notes)) == 32, sorted(notes)
