"""Helpers for executive-view tests: act on incidents through the real domain services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisis import clock
from crisis.extensions import db


class Desk:
    """Drives incidents through the incidents and statements services, committing each action."""

    def __init__(self, app, team) -> None:
        self.app = app
        self.team = team

    def _run(self, action):
        with self.app.app_context():
            result = action()
            db.session.commit()
            return result

    def ack(self, ref: str, key: str, email: str) -> None:
        from crisis.incidents.service import acknowledge_step, get_incident
        from crisis.people.service import get_person

        self._run(lambda: acknowledge_step(incident=get_incident(ref), step_key=key, actor=get_person(email)))

    def complete(self, ref: str, key: str, email: str, note: str = "") -> None:
        from crisis.incidents.service import complete_step, get_incident
        from crisis.people.service import get_person

        self._run(lambda: complete_step(incident=get_incident(ref), step_key=key, actor=get_person(email), note=note))

    def change(self, ref: str, email: str, **changes) -> None:
        from crisis.incidents.service import change_incident, get_incident
        from crisis.people.service import get_person

        self._run(lambda: change_incident(incident=get_incident(ref), actor=get_person(email), **changes))

    def resolve(self, ref: str) -> None:
        self.change(ref, self.team.lead, status="resolved", force_reason="handled; remaining steps not needed")

    def publish_holding_statement(self, ref: str, body: str = "We are aware and looking into it.") -> None:
        """Draft, approve (legal, marketing) and publish the holding statement, as the real flow does."""
        from crisis.incidents.service import get_incident
        from crisis.people.service import get_person
        from crisis.statements import service as statements

        def flow():
            incident = get_incident(ref)
            spokes = get_person(self.team.spokes)
            statement = statements.draft_statement(
                incident=incident, actor=get_person(self.team.lead), platform="x", body=body, step_key="holding-statement"
            )
            statements.submit_statement(statement=statement, actor=get_person(self.team.lead))
            statements.approve_statement(statement=statement, actor=get_person(self.team.legal))
            statements.approve_statement(statement=statement, actor=get_person(self.team.marketing))
            if not statements.is_spokesperson(spokes, "x"):
                statements.authorise_spokesperson(
                    person=spokes, platform="x", trained_at=clock.now() - timedelta(days=30),
                    granted_by=get_person(self.team.admin),
                )
            statements.publish_statement(statement=statement, actor=spokes, url="https://x.com/brand/status/1")

        self._run(flow)


@pytest.fixture
def desk(app, team, synced) -> Desk:
    return Desk(app, team)
