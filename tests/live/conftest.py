"""Fixtures of the live-page tests."""

from __future__ import annotations

import pytest
from flask import template_rendered


@pytest.fixture
def renders(app):
    """Names of the templates rendered while the test runs."""
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)
