"""Domain errors: raised by services, mapped to HTTP (and CLI exits) in one place each."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class BadRequest(DomainError):
    """The request itself is malformed: not JSON, wrong shape, a field failing its schema."""

    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    """No valid credentials (a missing, unknown or revoked bearer token)."""

    status = 401
    code = "unauthorized"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


def incident_not_found(ref: str, *, field: str = "ref") -> NotFound:
    """The one wording for a reference that names no incident, whichever face asked."""
    return NotFound(f"There is no incident {ref.strip().upper()}.", field=field)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ConfigError(Exception):
    """The configuration cannot work; entry points print it on one line and exit non-zero."""
