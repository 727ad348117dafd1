"""Flask-Login wiring: sessions carry the person's session version, so bumping it ends them."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
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
    """Flask's signed-cookie session, with nothing to do for requests that carry no cookie.

    API clients send no cookies. For them Flask would still build the cookie signer (whose
    constructor test-serialises a value), parse an empty Cookie header, and add `Vary: Cookie`
    once Flask-Login has looked into the empty session; together that cost about as much as the
    rest of a trivial request. Every dynamic response is `Cache-Control: no-store`
    (crisis.web.security), so no cache needs that Vary.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and "HTTP_COOKIE" not in request.environ:
            return  # no cookie came and none is to be set or deleted
        super().save_session(app, session, response)


def configure_login(manager: LoginManager, app: Any) -> None:
    app.session_interface = SessionCookies()
    manager.login_view = "people.login"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager.user_loader(load_person)
