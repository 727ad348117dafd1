"""Every error under /api/v1 is JSON: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from crisis.errors import DomainError
from crisis.web.sessions import rollback_safely


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, field: str | None = None):
    body: dict = {"code": code, "message": message}
    if field:
        body["field"] = field
    response = jsonify({"error": body})
    response.status_code = status
    return response


def domain_error_response(error: DomainError):
    """Roll back whatever the failed call started, so bad input changes nothing."""
    rollback_safely()
    response = error_response(error.status, error.code, error.message, error.field)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="crisis"'
    return response


HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
    500: "internal_error",
}


def http_error_response(error: HTTPException):
    status = error.code or 500
    message = error.description or error.name
    if status == 400 and "CSRF" in str(message):
        message = "CSRF token missing or invalid"
    response = error_response(status, HTTP_CODES.get(status, "error"), message)
    # A 405 says which methods the URL does take (Werkzeug's own page does; ours must too).
    for name, value in error.get_headers():
        if name == "Allow":
            response.headers["Allow"] = value
    return response

