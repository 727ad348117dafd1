"""Migration 0005: a review written before history was kept becomes its version 1."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from crisis import create_app
from crisis.extensions import db


def _reset(url: str, is_postgres: bool, *, restore: bool) -> None:
    if is_postgres:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        if restore:
            db.metadata.create_all(engine)
        engine.dispose()


def test_existing_reviews_become_version_one(app_config, database_url, is_postgres):
    from crisis.incidents.service import change_incident, declare_incident, get_incident
    from crisis.people.service import create_person
    from crisis.playbooks.service import sync_playbooks
    from crisis.reviews.service import ActionInput, write_review

    _reset(database_url, is_postgres, restore=False)
    app = create_app(app_config)
    directory = app.extensions["migrate"].directory
    try:
        with app.app_context():
            upgrade(directory=directory)
            sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
            lead = create_person(email="lead@example.com", name="Lee Lead", password="correct-horse-battery",
                                 permissions=["declare", "respond", "view"], roles=["triage-lead"])
            ref = declare_incident(playbook_key="viral-complaint", title="Reviewed", severity="SEV3", declared_by=lead).ref
            incident = get_incident(ref)
            change_incident(incident=incident, actor=lead, status="resolved", force_reason="done")
            write_review(incident=incident, actor=lead, what_happened="It spread.",
                         actions=[ActionInput("Rota", "lead@example.com", "2026-12-05")])
            db.session.commit()
            db.session.remove()
            downgrade(directory=directory, revision="0002_incident_revisions")
            upgrade(directory=directory)
            with db.engine.connect() as connection:
                row = connection.execute(text(
                    "SELECT number, what_happened, actions FROM review_versions"
                )).one()
            assert row[0] == 1 and row[1] == "It spread."
            assert "lead@example.com" in str(row[2]) and "2026-12-05" in str(row[2])
            db.engine.dispose()
    finally:
        _reset(database_url, is_postgres, restore=True)
