"""Read-only requests begin SQLite transactions DEFERRED, so they run beside a writer."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crisis.db.engine import is_reading, reading
from crisis.extensions import db
from tests.support.constants import PASSWORD


@pytest.fixture
def sqlite_only(is_postgres):
    if is_postgres:
        pytest.skip("PostgreSQL has no BEGIN modes to choose")


def test_reading_marks_a_block_and_can_be_switched_off_inside(app, sql_statements, sqlite_only):
    assert not is_reading()
    with app.app_context():
        with reading():
            assert is_reading()
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            with reading(False):
                assert not is_reading()
                with db.engine.begin() as connection:
                    connection.execute(text("SELECT 1"))
            assert is_reading()
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    assert not is_reading()
    assert sql_statements.begins() == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]


def test_get_requests_begin_deferred_and_posts_immediate(app, client, make_person, api_client, sql_statements, sqlite_only):
    make_person("bot@example.com", permissions=["view"])
    bot = api_client("bot@example.com")
    assert bot.get("/api/v1/me").status_code == 200  # records the token's first use
    sql_statements.clear()

    assert bot.get("/api/v1/me").status_code == 200
    assert client.head("/login").status_code == 200
    # The session's transaction begins deferred, then the token lookup and loading the person
    # run in it (the lookup no longer has a connection of its own); the login page reads nothing.
    assert sql_statements.kinds(without=("PRAGMA",))[:3] == ["BEGIN", "SELECT", "SELECT"], sql_statements
    assert sql_statements.begins() == ["BEGIN"]
    assert not is_reading()  # the mark ends with the request

    sql_statements.clear()
    assert client.post("/login", data={"email": "bot@example.com", "password": "wrong-password-x"}).status_code == 401
    assert sql_statements.begins() == ["BEGIN IMMEDIATE"]


def test_a_read_is_not_held_up_by_another_process_writing(app, make_person, api_client, database_url, sqlite_only):
    make_person("bot@example.com", permissions=["view"])
    bot = api_client("bot@example.com")
    assert bot.get("/api/v1/me").status_code == 200  # records the token's first use

    writer = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a busy worker would
    try:
        answers: list[int] = []
        reader = threading.Thread(target=lambda: answers.append(bot.get("/api/v1/me").status_code), daemon=True)
        reader.start()
        # An IMMEDIATE begin would wait here for the 30 s busy timeout.
        reader.join(timeout=10)
        assert answers == [200]
    finally:
        writer.rollback()
        writer.close()


def test_no_get_request_writes(app, client, team, incident_factory, api_client, login, sql_statements):
    """GET requests begin deferred on SQLite, which is only safe while none of them writes."""
    from flask import url_for

    ref = incident_factory()
    admin = "root@example.com"
    from crisis.people.service import create_person
    with app.app_context():
        create_person(email=admin, name="Root", password=PASSWORD, permissions=["admin"])
        db.session.commit()
    bot = api_client(admin)
    assert bot.get("/api/v1/me").status_code == 200  # records the token's first use
    login(admin)
    names = {"ref": ref, "key": "viral-complaint", "step_key": "gather-facts"}

    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith("logout"):
                continue
            values = {}
            for name in rule.arguments:
                converter = rule._converters[name].__class__.__name__
                values[name] = 1 if converter in ("IntegerConverter", "FloatConverter") else names.get(name, "x")
            paths.append(url_for(rule.endpoint, **values))
    sql_statements.clear()
    for path in sorted(paths):
        response = (bot if path.startswith("/api/") else client).get(path)
        assert response.status_code != 500, path  # /health may answer 503 with no scheduler
        assert sql_statements.writes() == [], path
    assert len(paths) > 30


def test_other_sqlite_engines_keep_the_drivers_own_transactions(tmp_path):
    """Only the app's engines have their BEGINs issued by crisis; another engine's rollback still undoes."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        with engine.connect() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            connection.rollback()
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        engine.dispose()
