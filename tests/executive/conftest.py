"""Helpers for executive-view tests: act on incidents through the real domain services."""

from __future__ import annotations

import pytest

from tests.support.desks import ResponseDesk


@pytest.fixture
def desk(app, team, synced) -> ResponseDesk:
    return ResponseDesk(app, team)
