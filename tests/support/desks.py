"""The one test driver: acts on incidents and statements through the real domain services.

Each action runs in an app context and commits, like a request does. The incident actions
take the incident's ref; the statement actions work on the desk's own incident (`ref`).
"""

from __future__ import annotations

from datetime import timedelta

from crisis import clock
from crisis.extensions import db
from crisis.incidents.service import acknowledge_step, change_incident, complete_step, get_incident
from crisis.people.service import get_person
from crisis.statements import service
from crisis.statements.models import Statement
from crisis.statements.schemas import StatementOut


class Desk:
    def __init__(self, app, team=None, ref: str | None = None) -> None:
        self.app = app
        self.team = team
        self.ref = ref

    def _commit(self, action):
        with self.app.app_context():
            result = action()
            db.session.commit()
            return result

    # -- incidents ----------------------------------------------------------------------------

    def ack(self, ref: str, key: str, email: str) -> None:
        self._commit(lambda: acknowledge_step(incident=get_incident(ref), step_key=key, actor=get_person(email)))

    def complete(self, ref: str, key: str, email: str, note: str = "") -> None:
        self._commit(lambda: complete_step(incident=get_incident(ref), step_key=key, actor=get_person(email), note=note))

    def change(self, ref: str, email: str, **changes) -> None:
        self._commit(lambda: change_incident(incident=get_incident(ref), actor=get_person(email), **changes))

    def resolve(self, ref: str) -> None:
        self.change(ref, self.team.lead, status="resolved", force_reason="handled; remaining steps not needed")

    def publish_holding_statement(self, ref: str, body: str = "We are aware and looking into it.") -> None:
        """Draft, approve (legal, marketing) and publish the holding statement, as the real flow does."""
        def flow():
            incident = get_incident(ref)
            spokes = get_person(self.team.spokes)
            statement = service.draft_statement(
                incident=incident, actor=get_person(self.team.lead), platform="x", body=body, step_key="holding-statement"
            )
            service.submit_statement(statement=statement, actor=get_person(self.team.lead))
            service.approve_statement(statement=statement, actor=get_person(self.team.legal))
            service.approve_statement(statement=statement, actor=get_person(self.team.marketing))
            if not service.is_spokesperson(spokes, "x"):
                service.authorise_spokesperson(
                    person=spokes, platform="x", trained_at=clock.now() - timedelta(days=30),
                    granted_by=get_person(self.team.admin),
                )
            service.publish_statement(statement=statement, actor=spokes, url="https://x.com/brand/status/1")

        self._commit(flow)

    # -- statements on the desk's incident ------------------------------------------------

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
