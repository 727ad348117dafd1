"""Fixtures for the alerts tests: recorded payloads, an intake token, database helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crisis.extensions import db
from tests.support.alerts import MONITOR


@pytest.fixture
def intake(team, synced, make_person, api_client):
    """An API client with an alerts-scoped token of a service account that has no permissions."""
    make_person(MONITOR, permissions=(), name="Brand monitor", password=None)
    return api_client(MONITOR, scope="alerts")


class Db:
    """Read what the intake stored, each call in its own app context."""

    def __init__(self, app) -> None:
        self.app = app

    def alerts(self) -> list[dict]:
        from crisis.alerts.models import Alert
        from crisis.alerts.schemas import AlertOut

        with self.app.app_context():
            rows = db.session.scalars(select(Alert).order_by(Alert.id))
            return [AlertOut.of(a).model_dump() for a in rows]

    def incident_refs(self) -> list[str]:
        from crisis.incidents.models import Incident

        with self.app.app_context():
            return list(db.session.scalars(select(Incident.ref).order_by(Incident.id)))

    def incident(self, ref: str) -> dict:
        from crisis.incidents.schemas import IncidentOut
        from crisis.incidents.service import get_incident

        with self.app.app_context():
            return IncidentOut.of(get_incident(ref)).model_dump(exclude_unset=True)

    def events(self, ref: str, prefix: str = "") -> list[dict]:
        from crisis.incidents.schemas import EventOut
        from crisis.incidents.service import get_incident
        from crisis.timeline.service import events_for

        with self.app.app_context():
            incident = get_incident(ref)
            return [EventOut.of(e).model_dump() for e in events_for(incident.id, kinds=[prefix] if prefix else None)]

    def count(self, model) -> int:
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def stored(app) -> Db:
    return Db(app)
