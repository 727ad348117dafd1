"""Flask-Login wiring: sessions carry the person's session version, so bumping it ends them."""

from __future__ import annotations

from typing import Any

from flask_login import LoginManager
from sqlalchemy.orm import lazyload

from crisis.extensions import db
from crisis.people.models import Person


def load_person(session_id: str) -> Person | None:
    """Return the person of a session id `<id>:<session_version>`, if the session is still valid."""
    person_id, _, version = session_id.partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    # Roles load when a page asks about them: Flask-Login loads the person for every template
    # render, live fragments included, and few pages show roles. Permissions still come with
    # the person: every page's menu asks, and so does an error page rendered after a lost
    # connection, when the person can no longer load anything.
    person = db.session.get(Person, int(person_id), options=[lazyload(Person.roles)])
    if person is None or not person.active or person.session_version != int(version):
        return None
    return person


def configure_login(manager: LoginManager, app: Any) -> None:
    manager.login_view = "people.login"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager.user_loader(load_person)
