"""Statements run on the driver's cursor but read and write as SQLAlchemy would, in or beside the work's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.exc import DBAPIError, IntegrityError, MultipleResultsFound

from crisis.database import DriverStatement, is_reading, lookup_connection, session_connection
from crisis.extensions import db
from crisis.incidents.models import IncidentCounter
from crisis.people.models import ApiToken, Person
from crisis.people.service import create_token, get_person
from crisis.timeline.models import TimelineEvent


def _people(*columns):
    return select(*columns).select_from(Person.__table__)


def test_a_lookup_answers_like_sqlalchemy(app, make_person, clock):
    make_person("a@example.com", name="Ann")
    with app.app_context():
        token, _ = create_token(person=get_person("a@example.com"), name="t")
        token.last_used_at = clock()
        db.session.commit()
        tokens = ApiToken.__table__
        statement = select(tokens.c.id, tokens.c.name, tokens.c.last_used_at, tokens.c.revoked_at,
                           literal(True).label("flag")).where(tokens.c.name == bindparam("name"))
        expected = tuple(db.session.execute(statement, {"name": "t"}).one())
        found = DriverStatement(statement).one_or_none(lookup_connection(), {"name": "t"})
    assert found == expected
    assert found[2] == clock() and found[2].tzinfo is not None  # the model's aware UTC datetime
    assert found[3] is None


def test_a_lookup_with_no_row_is_none_and_with_two_refuses(app, make_person):
    make_person("a@example.com")
    make_person("b@example.com")
    people = Person.__table__
    with app.app_context():
        assert DriverStatement(_people(people.c.id).where(people.c.email == bindparam("email"))).one_or_none(
            lookup_connection(), {"email": "nobody@example.com"}
        ) is None
        with pytest.raises(MultipleResultsFound):
            DriverStatement(_people(people.c.id).where(people.c.active.is_(True))).one_or_none(lookup_connection(), {})


def test_a_lookup_keeps_the_values_bound_in_its_statement(app, make_person):
    make_person("a@example.com", name="Ann")
    people = Person.__table__
    lookup = DriverStatement(_people(people.c.name).where(people.c.email == "a@example.com", people.c.id > bindparam("above")))
    with app.app_context():
        assert lookup.one_or_none(lookup_connection(), {"above": 0}) == ("Ann",)
        assert lookup.one_or_none(lookup_connection(), {"above": 10_000}) is None


def test_a_lookup_refuses_an_expanding_parameter(app):
    people = Person.__table__
    lookup = DriverStatement(_people(people.c.id).where(people.c.email.in_(bindparam("emails", expanding=True))))
    with app.app_context(), pytest.raises(ValueError, match="scalar parameters only"):
        lookup.one_or_none(lookup_connection(), {"emails": ["a@example.com"]})


def test_a_lookup_in_a_write_sees_the_works_own_changes(app, make_person):
    make_person("a@example.com", name="Ann")
    people = Person.__table__
    lookup = DriverStatement(_people(people.c.name).where(people.c.email == bindparam("email")))
    with app.app_context():
        get_person("a@example.com").name = "Anna"
        db.session.flush()
        # Outside a read-only request the lookup joins the session's transaction.
        assert lookup.one_or_none(lookup_connection(), {"email": "a@example.com"}) == ("Anna",)
        db.session.rollback()
        assert lookup.one_or_none(lookup_connection(), {"email": "a@example.com"}) == ("Ann",)


def test_a_read_only_request_looks_up_on_one_connection_returned_at_its_end(app, make_person):
    from flask import g

    make_person("a@example.com", name="Ann")
    people = Person.__table__
    lookup = DriverStatement(_people(people.c.name).where(people.c.email == bindparam("email")))
    with app.app_context():
        engine = db.engine
        checked_out_before = engine.pool.checkedout()
    with app.test_request_context("/api/v1/me"):
        app.preprocess_request()  # a GET: marks the request read-only
        assert is_reading()
        assert lookup.one_or_none(lookup_connection(), {"email": "a@example.com"}) == ("Ann",)
        connection = g.crisis_lookup_connection
        assert lookup.one_or_none(lookup_connection(), {"email": "a@example.com"}) == ("Ann",)
        assert g.crisis_lookup_connection is connection
        assert engine.pool.checkedout() == checked_out_before + 1
        app.do_teardown_request()
    assert engine.pool.checkedout() == checked_out_before


_EVENT_COLUMNS = ("incident_id", "kind", "summary", "actor_id", "actor_label", "data", "at")


def test_writes_join_the_sessions_transaction_and_store_what_the_orm_would(app, incident_factory, clock):
    ref = incident_factory()
    events = TimelineEvent.__table__
    insert_one = DriverStatement(events.insert().returning(events.c.id), columns=_EVENT_COLUMNS)
    insert_many = DriverStatement(events.insert(), columns=_EVENT_COLUMNS)
    with app.app_context():
        from crisis.incidents.service import get_incident

        incident_id = get_incident(ref).id
        before = db.session.scalar(select(func.count()).select_from(events))
        row = {"incident_id": incident_id, "kind": "incident.note", "summary": "one", "actor_id": None,
               "actor_label": "test", "data": {"n": 1, "text": "naïve “quotes”"}, "at": clock()}
        (new_id,) = insert_one.first(session_connection(), row)
        insert_many.execute_many(session_connection(), [row | {"summary": "two"}, row | {"summary": "three", "data": {}}])
        db.session.rollback()  # all three were in the session's transaction
        assert db.session.scalar(select(func.count()).select_from(events)) == before

        (new_id,) = insert_one.first(session_connection(), row)
        insert_many.execute_many(session_connection(), [row | {"summary": "two"}])
        db.session.commit()
    with app.app_context():
        stored = db.session.get(TimelineEvent, new_id)
        assert (stored.summary, stored.data, stored.at, stored.actor_label) == (
            "one", {"n": 1, "text": "naïve “quotes”"}, clock(), "test"
        )
        assert db.session.scalar(select(func.count()).select_from(events)) == before + 2


def test_a_write_that_would_need_a_python_side_default_is_refused(app):
    events = TimelineEvent.__table__
    # `at` and `data` have Python-side defaults that only SQLAlchemy's execution would run.
    statement = DriverStatement(events.insert(), columns=("incident_id", "kind", "summary", "actor_id"))
    with app.app_context(), pytest.raises(ValueError, match="give .*at.* in its columns"):
        statement.execute_many(session_connection(), [{"incident_id": 1, "kind": "k", "summary": "s", "actor_id": None}])


def test_a_drivers_error_is_raised_as_sqlalchemys(app):
    counters = IncidentCounter.__table__
    insert = DriverStatement(counters.insert(), columns=("year", "last_number"))
    with app.app_context():
        insert.execute_many(session_connection(), [{"year": 2026, "last_number": 1}])
        with pytest.raises(IntegrityError):  # as callers catching SQLAlchemy's errors expect
            insert.first(session_connection(), {"year": 2026, "last_number": 2})
        db.session.rollback()


def _drop_every_connection(database_url: str) -> None:
    """What a server restart or failover does to the app's pooled connections."""
    from sqlalchemy import create_engine, text

    killer = create_engine(database_url)
    try:
        with killer.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))
    finally:
        killer.dispose()


def _answers(send, times: int) -> list:
    answers = []
    for _ in range(times):
        try:
            answers.append(send().status_code)
        except DBAPIError as error:  # the test app propagates what would be a 500
            assert error.connection_invalidated
            answers.append("lost")
    return answers


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite connections are not lost")


def test_a_lost_connection_fails_one_read_and_empties_the_pool(make_person, api_client, database_url, postgres_only):
    make_person("a@example.com")
    bot = api_client("a@example.com")
    for _ in range(3):
        assert bot.get("/api/v1/me").status_code == 200
    _drop_every_connection(database_url)
    answers = _answers(lambda: bot.get("/api/v1/me"), 5)
    # The first request finds its connection gone; the pool is emptied, so no other stale one is used.
    assert answers[1:] == [200] * 4, answers


def test_a_lost_connection_fails_one_declaration(make_person, api_client, synced, database_url, postgres_only):
    make_person("lead@example.com", permissions=["declare", "view"])
    lead = api_client("lead@example.com")
    body = {"playbook": "viral-complaint", "title": "Kettle video", "severity": "SEV3"}
    assert lead.post("/api/v1/incidents", json=body).status_code == 201
    _drop_every_connection(database_url)
    answers = _answers(lambda: lead.post("/api/v1/incidents", json=body), 3)
    assert answers[1:] == [201, 201], answers
