"""Publishing an approved statement by an authorised, trained spokesperson."""

from __future__ import annotations

from sqlalchemy import update

from crisis import clock
from crisis.enums import StepStatus
from crisis.errors import Conflict, Forbidden
from crisis.extensions import db
from crisis.incidents.service import complete_step
from crisis.notifications import triggers
from crisis.people.models import Person
from crisis.statements.checks import capitalised, clean_url, statement_name
from crisis.statements.models import (
    ApprovalStatus,
    Statement,
    StatementStatus,
)
from crisis.statements.queries import (
    fully_approved,
    is_spokesperson,
    live_authorisation,
    lock_statement,
    playbook_of,
)
from crisis.timeline.service import record
from crisis.training.service import spokesperson_training_problem


def publish_statement(*, statement: Statement, actor: Person, url: str) -> Statement:
    """Mark an approved statement published at `url`; its publishing step completes itself."""
    lock_statement(statement)
    url = clean_url(url)
    if statement.status == StatementStatus.PUBLISHED.value:
        raise Conflict(f"{capitalised(statement_name(statement))} was already published.", field="statement")
    if statement.status != StatementStatus.APPROVED.value or not fully_approved(statement):
        waiting = [a.role for a in statement.approvals if a.status != ApprovalStatus.APPROVED.value]
        detail = f"; waiting for {', '.join(waiting)}" if waiting and statement.status == StatementStatus.IN_REVIEW.value else ""
        raise Forbidden(
            f"{capitalised(statement_name(statement))} is {statement.status.replace('_', ' ')}, not approved{detail}: "
            "nothing goes out in the company's name before it is approved.",
            field="statement",
        )
    if live_authorisation(actor, statement.platform) is not None and (lapsed := spokesperson_training_problem(person=actor)):
        raise Forbidden(lapsed, field="actor")
    if not is_spokesperson(actor, statement.platform):
        raise Forbidden(
            f"{actor.name} is not an authorised, trained spokesperson for {statement.platform}: "
            "only they may publish in the company's name",
            field="actor",
        )
    now = clock.now()
    claimed = db.session.execute(
        update(Statement)
        .where(Statement.id == statement.id, Statement.status == StatementStatus.APPROVED.value, Statement.version == statement.version)
        .values(status=StatementStatus.PUBLISHED.value, published_at=now, published_by_id=actor.id, published_url=url, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"{capitalised(statement_name(statement))} changed meanwhile: read it again before publishing.", field="statement")
    db.session.refresh(statement)
    approvers = sorted({a.decided_by.email for a in statement.approvals if a.decided_by is not None})
    record(
        incident_id=statement.incident_id, kind="statement.published", actor=actor,
        summary=f"Statement #{statement.id} published on {statement.platform} by {actor.name}: {url}",
        data={
            "statement": statement.id, "step": statement.step_key, "version": statement.version,
            "platform": statement.platform, "url": url, "body": statement.body, "approved_by": approvers,
        },
    )
    triggers.statement_published(statement=statement, actor_id=actor.id)
    _complete_publishing_step(statement, actor)
    return statement


def _complete_publishing_step(statement: Statement, actor: Person) -> None:

    incident = statement.incident
    if statement.step_key:
        keys = [statement.step_key]
    else:
        playbook = playbook_of(incident)
        keys = [s.key for s in playbook.steps if s.publishes]
    for key in keys:
        step = incident.step(key)
        if step is not None and step.status == StepStatus.ACTIVE.value:
            complete_step(
                incident=incident, step_key=key, actor=actor,
                note=f"Statement #{statement.id} published: {statement.published_url}", via="statement",
            )
            return
