"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from crisis import create_app
from crisis.extensions import db

REVISED_TABLES = ("incidents", "incident_steps", "incident_links")  # had revision counters (0002..0003)


def _empty_database(url: str, is_postgres: bool) -> None:
    if is_postgres:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def _restore_schema(url: str, is_postgres: bool) -> None:
    """Put the session's shared PostgreSQL database back the way the other tests expect."""
    if is_postgres:
        _empty_database(url, is_postgres)
        engine = create_engine(url)
        db.metadata.create_all(engine)
        engine.dispose()


def test_upgrade_on_an_empty_database_matches_the_models(app_config, database_url, is_postgres):
    _empty_database(database_url, is_postgres)
    app = create_app(app_config)
    try:
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
                tables = set(inspect(connection).get_table_names())
            assert differences == [], f"models and migrations disagree: {differences}"
            assert {t.name for t in db.metadata.sorted_tables} <= tables
            # Triggers are not in the models' metadata compare: the revision counters' are gone (0003).
            with db.engine.connect() as connection:
                triggers = set(connection.scalars(text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal" if is_postgres
                    else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                )))
            assert not {f"{table}_bump_revision" for table in REVISED_TABLES} & triggers, triggers
            # Migrating in-process (run.py does) must not silence the application's loggers.
            assert not logging.getLogger("crisis.escalation.engine").disabled
            db.engine.dispose()
    finally:
        _restore_schema(database_url, is_postgres)


def test_revision_counters_come_back_on_downgrade_and_go_again_with_data(app_config, database_url, is_postgres):
    from flask_migrate import downgrade

    from crisis.incidents.service import declare_incident
    from crisis.playbooks.service import sync_playbooks

    _empty_database(database_url, is_postgres)
    app = create_app(app_config)
    directory = app.extensions["migrate"].directory
    try:
        with app.app_context():
            upgrade(directory=directory)
            sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
            ref = declare_incident(playbook_key="viral-complaint", title="Kept through a downgrade",
                                   severity="SEV3", declared_by=None).ref
            db.session.commit()
            db.session.remove()
            downgrade(directory=directory, revision="0002_incident_revisions")
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE incidents SET summary = 'again' WHERE ref = :r"), {"r": ref})
                # 0002's triggers are back and bump the counter.
                assert connection.execute(text("SELECT revision FROM incidents WHERE ref = :r"), {"r": ref}).scalar() == 1
            downgrade(directory=directory, revision="0001_initial")
            with db.engine.connect() as connection:
                assert "revision" not in {c["name"] for c in inspect(connection).get_columns("incidents")}
            upgrade(directory=directory)
            with db.engine.connect() as connection:
                columns = {c["name"] for c in inspect(connection).get_columns("incidents")}
                kept = connection.execute(text("SELECT count(*) FROM incident_steps")).scalar()
                row = connection.execute(text("SELECT title, summary FROM incidents WHERE ref = :r"), {"r": ref}).one()
            assert "revision" not in columns
            assert kept > 0 and tuple(row) == ("Kept through a downgrade", "again")
            db.engine.dispose()
    finally:
        _restore_schema(database_url, is_postgres)
