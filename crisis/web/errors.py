"""Map errors to responses in one place: JSON under /api/, HTML pages elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from crisis.api.errors import domain_error_response, http_error_response, is_api_request
from crisis.errors import DomainError
from crisis.web.lost_connection import register_lost_connection_handling
from crisis.web.sessions import rollback_safely


def _same_site_referrer() -> str | None:
    """The page the form was on, if it is one of ours (never off-site; never a guess at a POST-only URL)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc not in ("", request.host) or parts.scheme not in ("", "http", "https"):
        return None
    return referrer


def register_error_handlers(app: Flask) -> None:
    register_lost_connection_handling(app)

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        if is_api_request():
            return domain_error_response(error)
        rollback_safely()
        back = _same_site_referrer()
        if request.method == "POST" and back:
            # A refused form action: say why on the page the person came from.
            flash(error.message, "error")
            return redirect(back)
        return render_template("errors/error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if is_api_request():
            return http_error_response(error)
        status = error.code or 500
        return render_template("errors/error.html", status=status, message=error.description), status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        rollback_safely()
        wrapped = InternalServerError()
        if is_api_request():
            return http_error_response(wrapped)
        message = "Something went wrong on our side; it has been logged."
        return render_template("errors/error.html", status=500, message=message), 500
