"""Every statement goes through SQLAlchemy: its events, Flask-SQLAlchemy's recorded queries and
echo see all of them, and a connection the server dropped is replaced before it is used."""

from __future__ import annotations

import pytest
from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import create_engine, text

from crisis.extensions import db
from crisis.incidents.schemas import IncidentOut
from crisis.incidents.service import declare_incident, get_incident
from crisis.people.service import check_token, create_token, get_person


@pytest.fixture
def app_config(app_config):
    return app_config | {"SQLALCHEMY_RECORD_QUERIES": True}


def _writes(statements):
    return sorted(s.split("(")[0].split()[2] for s in statements if s.lstrip().upper().startswith("INSERT"))


def test_sqlalchemy_records_every_statement_of_declaring_and_reading(app, team, synced, sql_statements):
    with app.test_request_context("/api/v1/incidents", method="POST"):
        sql_statements.clear()
        declared = declare_incident(playbook_key="viral-complaint", title="Kettle video", severity="SEV2",
                                    declared_by=get_person(team.lead), links=[("x", "https://x.com/a/1")])
        db.session.commit()
        recorded = [query.statement for query in get_recorded_queries()]
        # The events and the recorded queries see the same statements, every write among them.
        assert [s for s in recorded if not s.startswith("BEGIN")] == [
            s for s in sql_statements if not s.startswith("BEGIN")
        ]
        # Declaring also tells the people it gives work to, through the outbox.
        assert sorted(set(_writes(recorded))) == [
            "incident_counters", "incident_links", "incident_steps", "incidents", "notifications", "timeline_events",
        ]
    with app.test_request_context(f"/api/v1/incidents/{declared.ref}"):
        sql_statements.clear()
        answer = IncidentOut.of(get_incident(declared.ref))
        recorded = [query.statement for query in get_recorded_queries()]
        assert answer.ref == declared.ref and len(answer.steps) > 1
        assert recorded == list(sql_statements) and sql_statements.kinds() == ["SELECT"] * 3


def test_echo_logs_the_token_check(app, make_person, caplog):
    make_person("bot@example.com")
    with app.app_context():
        _, secret = create_token(person=get_person("bot@example.com"), name="t")
        db.session.commit()
        db.engine.echo = True
        try:
            with caplog.at_level("INFO", logger="sqlalchemy.engine"):
                assert check_token(secret=secret, permission="view") is not None
        finally:
            db.engine.echo = False
    assert any("FROM api_tokens" in record.getMessage() for record in caplog.records)


def _drop_every_connection(database_url: str) -> None:
    """What a server restart or failover does to the app's pooled connections."""
    killer = create_engine(database_url)
    try:
        with killer.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))
    finally:
        killer.dispose()


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite connections are not lost")


def test_a_lost_connection_fails_no_read(make_person, api_client, database_url, postgres_only):
    make_person("a@example.com")
    bot = api_client("a@example.com")
    for _ in range(3):
        assert bot.get("/api/v1/me").status_code == 200
    _drop_every_connection(database_url)
    # pool_pre_ping finds the dead connection on checkout and replaces it.
    assert [bot.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5


def test_a_lost_connection_fails_no_declaration(make_person, api_client, synced, database_url, postgres_only):
    make_person("lead@example.com", permissions=["declare", "view"])
    lead = api_client("lead@example.com")
    body = {"playbook": "viral-complaint", "title": "Kettle video", "severity": "SEV3"}
    assert lead.post("/api/v1/incidents", json=body).status_code == 201
    _drop_every_connection(database_url)
    assert [lead.post("/api/v1/incidents", json=body).status_code for _ in range(3)] == [201] * 3
