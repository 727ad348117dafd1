"""Bring a database up to date for serving: reachable, migrated, playbooks synced, demo seeded."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crisis.demo import DEMO_PASSWORD, seed_demo
from crisis.errors import ConfigError
from crisis.extensions import db
from crisis.people.models import Person
from crisis.playbooks.service import sync_playbooks


def check_database(app: Flask) -> None:
    """Raise ConfigError with one readable line when the database cannot be reached."""
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else type(error).__name__
            url = db.engine.url.render_as_string(hide_password=True)
            raise ConfigError(f"cannot connect to the database {url}: {reason}") from None


def prepare_database(app: Flask, *, seed: bool, progress: Callable[[str], None] = lambda _: None) -> dict:
    """Migrate, sync playbooks and (on a database without people) seed the demo team."""
    check_database(app)

    summary: dict = {}
    with app.app_context():
        progress("database: applying migrations")
        upgrade(directory=app.extensions["migrate"].directory)
        report = sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
        db.session.commit()
        progress(f"playbooks: {report.summary()}")
        if seed and db.session.query(Person.id).first() is None:
            created = seed_demo()
            progress(f"demo: created {len(created)} people")
            summary["demo_login"] = f"comms.lead@example.com / {DEMO_PASSWORD} (admin: admin@example.com)"
    return summary
