"""Statement fixtures: an incident with an active publishing step, a trained spokesperson."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisis import clock
from crisis.extensions import db
from crisis.people.service import get_person
from crisis.statements import service
from tests.support.desks import Desk


@pytest.fixture
def ref(team, incident_factory) -> str:
    """A SEV2 viral complaint on x: its holding-statement step (legal + marketing approve) is active."""
    return incident_factory(links=[("x", "https://x.com/someone/status/1")], summary="The kettle lid breaks")


@pytest.fixture
def spokesperson(app, team) -> str:
    """Authorise the team's spokesperson, trained last month, for x."""
    with app.app_context():
        service.authorise_spokesperson(
            person=get_person(team.spokes), platform="x", trained_at=clock.now() - timedelta(days=30),
            granted_by=get_person(team.admin),
        )
        db.session.commit()
    return team.spokes


@pytest.fixture
def desk_for(app, team):
    """A desk on another incident than `ref` (pass its ref)."""
    return lambda ref: Desk(app, team, ref)


@pytest.fixture
def desk(app, team, ref) -> Desk:
    return Desk(app, team, ref)
