"""Security headers on every response."""

from __future__ import annotations

from flask import Response, current_app, request

# No inline script or style anywhere: every script and stylesheet is a file served by the app.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


_ALWAYS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def add_security_headers(response: Response) -> Response:
    # Each header only where the view did not set its own. One look at the present names: a
    # setdefault per header rescans the list each time, on every response.
    present = {key.lower() for key, _ in response.headers}
    wanted = list(_ALWAYS)
    if request.endpoint != "static":
        # Incident pages and API answers are confidential: no shared or back-button caches keep them.
        wanted.append(("Cache-Control", "no-store"))
    if request.is_secure or current_app.config.get("ENV") == "production":
        wanted.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    for key, value in wanted:
        if key.lower() not in present:
            response.headers.add(key, value)
    return response
