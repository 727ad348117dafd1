"""A lost database connection fails only the request it happened in, and says so properly.

The API answers a JSON 503 with Retry-After, the web its own error page; never the server's
bare HTML page. The session is discarded without touching the dead connection, in the error
handler and again at teardown (a rollback on a dead connection must not escape the app), and
SQLAlchemy's own disconnect handling empties the pool, so the next request gets a new
connection: the app recovers without a restart.
"""

from __future__ import annotations

import logging

from flask import Flask, make_response, render_template, request
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from crisis.api.errors import error_response, is_api_request
from crisis.web.sessions import discard_session

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = "The database could not be reached; nothing more was done. Try again in a few seconds."
API_MESSAGE = (
    "the database connection was lost; retry shortly, with the same Idempotency-Key for a write "
    "(a write may have been saved: the key makes the retry return its answer instead of saving it twice)"
)


def _lost_connection_response(error: DBAPIError):
    log.warning("database connection lost on %s %s: %s", request.method, request.path, error.orig)
    discard_session()
    if is_api_request():
        response = error_response(503, "database_unavailable", API_MESSAGE)
    else:
        try:
            response = make_response(render_template("errors/error.html", status=503, message=MESSAGE), 503)
        except SQLAlchemyError:  # the page itself needed the database (e.g. to load who is signed in)
            discard_session()
            response = _plain_page()
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _plain_page():
    body = f"<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1><p>{escape(MESSAGE)}</p>"
    return make_response(body, 503)


def _release_session(_exception: BaseException | None) -> None:
    """Teardown: Flask-SQLAlchemy's own teardown runs after this one and finds nothing left to do."""
    discard_session()


def register_lost_connection_handling(app: Flask) -> None:
    app.register_error_handler(OperationalError, _lost_connection_response)
    app.register_error_handler(InterfaceError, _lost_connection_response)
    # Registered after Flask-SQLAlchemy's: teardown functions run in reverse order, so this one first.
    app.teardown_appcontext(_release_session)
