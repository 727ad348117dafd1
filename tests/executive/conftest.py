"""Helpers for executive-view tests: act on incidents through the real domain services."""

from __future__ import annotations

import pytest

from tests.support.desks import Desk


@pytest.fixture
def desk(app, team, synced) -> Desk:
    return Desk(app, team)
