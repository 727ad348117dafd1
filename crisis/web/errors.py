"""Map errors to responses in one place: JSON under /api/, HTML pages elsewhere."""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from crisis.api.errors import domain_error_response, http_error_response, is_api_request
from crisis.errors import DomainError
from crisis.extensions import db


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        if is_api_request():
            return domain_error_response(error)
        db.session.rollback()
        if request.method == "POST":
            # A refused form action: say why on the page the person came from.
            flash(error.message, "error")
            return redirect(request.referrer or request.path)
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
        db.session.rollback()
        wrapped = InternalServerError()
        if is_api_request():
            return http_error_response(wrapped)
        message = "Something went wrong on our side; it has been logged."
        return render_template("errors/error.html", status=500, message=message), 500
