"""Drivers that act on incidents and statements through the real domain services.

`ResponseDesk` declares and runs incidents (executive and browser tests); `StatementDesk`
drafts, approves and publishes statements on one incident (statements tests).
"""

from __future__ import annotations

from datetime import timedelta

from crisis import clock
from crisis.extensions import db
from crisis.incidents.service import get_incident
from crisis.people.service import get_person
from crisis.statements import service
from crisis.statements.models import Statement
from crisis.statements.schemas import StatementOut


class ResponseDesk:
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


class StatementDesk:
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
