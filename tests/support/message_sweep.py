"""Every message a person reads in a test's responses is checked: no ISO timestamp, no API field name.

Flashes, the message of an error page and the `error.message` of JSON errors are collected from
each test's app through Flask's signals; a test whose responses said one fails at teardown.
"""

from __future__ import annotations

import re

import pytest
from flask import message_flashed, request_finished, template_rendered

ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Names of API fields that once leaked into messages people read.
FIELD_NAMES = ("force_reason",)


def unreadable(message: str) -> str | None:
    """Return why a message is not fit for a person to read, or None."""
    if ISO_TIMESTAMP.search(message):
        return "shows an ISO timestamp"
    for name in FIELD_NAMES:
        if name in message:
            return f"names the API field {name}"
    return None


@pytest.fixture(autouse=True)
def _messages_read_plainly(request):
    """Collect what the test's app told people and fail the test on an unreadable message."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    said: list[str] = []

    def flashed(sender, message, category, **extra):
        said.append(str(message))

    def rendered(sender, template, context, **extra):
        if template.name == "errors/error.html" and context.get("message"):
            said.append(str(context["message"]))

    def finished(sender, response, **extra):
        if response.is_json and not response.is_streamed and response.status_code >= 400:
            error = (response.get_json(silent=True) or {}).get("error")
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                said.append(error["message"])

    message_flashed.connect(flashed, app)
    template_rendered.connect(rendered, app)
    request_finished.connect(finished, app)
    try:
        yield
    finally:
        message_flashed.disconnect(flashed, app)
        template_rendered.disconnect(rendered, app)
        request_finished.disconnect(finished, app)
    bad = [f"{message!r} {why}" for message in said if (why := unreadable(message))]
    assert not bad, "messages people read must be plain: " + "; ".join(bad)
