"""Statement fixtures: an incident with an active publishing step, a trained spokesperson."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisis import clock
from crisis.extensions import db
from crisis.incidents.service import get_incident
from crisis.people.service import get_person
from crisis.statements import service
from crisis.statements.models import Statement
from crisis.statements.schemas import StatementOut


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


class Desk:
    """Domain calls inside an app context, committing like a request does; returns statement ids."""

    def __init__(self, app, ref: str) -> None:
        self.app = app
        self.ref = ref

    def _run(self, fn, email: str, **kwargs):
        with self.app.app_context():
            actor = get_person(email)
            if "statement_id" in kwargs:
                kwargs["statement"] = service.get_statement(
                    incident=get_incident(self.ref), statement_id=kwargs.pop("statement_id")
                )
            else:
                kwargs["incident"] = get_incident(self.ref)
            result = fn(actor=actor, **kwargs)
            db.session.commit()
            return result.id

    def draft(self, email: str, **kwargs) -> int:
        kwargs.setdefault("platform", "x")
        return self._run(service.draft_statement, email, **kwargs)

    def submit(self, email: str, statement_id: int) -> int:
        return self._run(service.submit_statement, email, statement_id=statement_id)

    def approve(self, email: str, statement_id: int, **kwargs) -> int:
        return self._run(service.approve_statement, email, statement_id=statement_id, **kwargs)

    def reject(self, email: str, statement_id: int, reason: str) -> int:
        return self._run(service.reject_statement, email, statement_id=statement_id, reason=reason)

    def edit(self, email: str, statement_id: int, **kwargs) -> int:
        return self._run(service.edit_statement, email, statement_id=statement_id, **kwargs)

    def publish(self, email: str, statement_id: int, url: str = "https://x.com/exampleco/status/2") -> int:
        return self._run(service.publish_statement, email, statement_id=statement_id, url=url)

    def get(self, statement_id: int) -> dict:
        with self.app.app_context():
            return StatementOut.of(db.session.get(Statement, statement_id)).model_dump()

    def approved(self, team) -> int:
        """Draft the holding statement from its template, submit, and have legal and marketing approve."""
        sid = self.draft(team.social, step_key="holding-statement")
        self.submit(team.social, sid)
        self.approve(team.legal, sid)
        self.approve(team.marketing, sid)
        return sid


@pytest.fixture
def desk(app, ref) -> Desk:
    return Desk(app, ref)
