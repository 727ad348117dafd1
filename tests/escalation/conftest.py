"""Fixtures for escalation tests: a response crew whose roles every escalation target names."""

from __future__ import annotations

import pytest

from crisis.extensions import db


@pytest.fixture
def crew(app, make_person):
    """Create the people an escalation can reach; returns role name -> email."""
    people = {
        "owner": make_person("owner@example.com", permissions=("respond", "view")),
        "lead": make_person("lead@example.com", permissions=("respond", "view"), roles=("social-media-manager",)),
        "backup": make_person(
            "backup@example.com", permissions=("respond", "view"), roles=("social-media-manager:backup",)
        ),
        "triage": make_person("triage@example.com", permissions=("declare", "respond", "view"), roles=("triage-lead",)),
        "exec": make_person("exec@example.com", permissions=("view",), roles=("exec-sponsor",)),
        "legal": make_person("legal@example.com", permissions=("approve", "view"), roles=("legal",)),
        "admin": make_person("admin@example.com", permissions=("admin",)),
    }
    return people


@pytest.fixture
def person(app):
    """Look a person up by email (inside an app context)."""
    from crisis.people.service import get_person

    def get(email: str):
        return get_person(email)

    return get


@pytest.fixture
def commit():
    def do() -> None:
        db.session.commit()

    return do
