"""Readiness fixtures: an approved holding statement, a drill runner, counts of what was written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crisis.extensions import db
from crisis.incidents.service import get_incident
from crisis.people.service import get_person
from crisis.statements import service as statements


class Statements:
    """Draft, submit and approve the holding statement of an incident, as the team would."""

    def __init__(self, app, team) -> None:
        self.app = app
        self.team = team

    def approved(self, ref: str) -> int:
        with self.app.app_context():
            incident = get_incident(ref)
            statement = statements.draft_statement(
                incident=incident, actor=get_person(self.team.social), platform="x", step_key="holding-statement"
            )
            statements.submit_statement(statement=statement, actor=get_person(self.team.social))
            for email in (self.team.legal, self.team.marketing):
                statements.approve_statement(statement=statement, actor=get_person(email))
            db.session.commit()
            return statement.id

    def publish(self, ref: str, statement_id: int, email: str) -> None:
        with self.app.app_context():
            statement = statements.get_statement(incident=get_incident(ref), statement_id=statement_id)
            statements.publish_statement(statement=statement, actor=get_person(email), url="https://x.com/co/status/9")
            db.session.commit()


@pytest.fixture
def holding(app, team) -> Statements:
    return Statements(app, team)


@pytest.fixture
def count(app):
    """Count the rows of a model (committed state, fresh session)."""

    def rows(model) -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))

    return rows
