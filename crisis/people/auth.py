"""Flask-Login wiring: sessions carry the person's session version, so bumping it ends them."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager

from crisis.extensions import db
from crisis.people.models import Person


def load_person(session_id: str) -> Person | None:
    """Return the person of a session id `<id>:<session_version>`, if the session is still valid."""
    person_id, _, version = session_id.partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    person = db.session.get(Person, int(person_id))
    if person is None or not person.active or person.session_version != int(version):
        return None
    return person


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building the cookie signer when there is no cookie.

    API clients and first visits send no session cookie, and building the signer (a serializer
    whose constructor test-serialises a value) cost half of a trivial request's own time.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def configure_login(manager: LoginManager, app: Any) -> None:
    app.session_interface = SessionCookies()
    manager.login_view = "people.login"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager.user_loader(load_person)
