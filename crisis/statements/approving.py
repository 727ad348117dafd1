"""Approving or sending back a statement: each approver role signs the current version."""

from __future__ import annotations

from sqlalchemy import update

from crisis import clock
from crisis.enums import Permission, StepStatus
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.extensions import db
from crisis.notifications import triggers
from crisis.people.models import Person
from crisis.permissions import decidable_approvals, has_permission, wrote_current_version
from crisis.statements.checks import capitalised, not_an_approver, not_in_review, statement_name
from crisis.statements.models import (
    ApprovalStatus,
    Statement,
    StatementApproval,
    StatementStatus,
)
from crisis.statements.queries import lock_statement, playbook_of, wording_author_id
from crisis.timeline.service import record


def approve_statement(*, statement: Statement, actor: Person, role: str | None = None) -> Statement:
    """Approve the current version for every pending approver role the actor holds (or `role`)."""
    lock_statement(statement)
    if statement.status != StatementStatus.IN_REVIEW.value:
        raise Conflict(not_in_review(statement), field="statement")
    if not has_permission(actor, Permission.APPROVE):
        raise Forbidden("Approving statements needs the approve permission: ask an admin.")
    if wrote_current_version(actor, statement):
        raise Forbidden("You wrote this version of the statement, so another approver must approve it.")
    approvals = _approvals_to_decide(statement, actor, role)
    now = clock.now()
    roles = []
    for approval in approvals:
        # Compare-and-set: a concurrent approve or an edit's reset wins, and this one writes nothing.
        claimed = db.session.execute(
            update(StatementApproval)
            .where(
                StatementApproval.id == approval.id,
                StatementApproval.status == ApprovalStatus.PENDING.value,
                StatementApproval.round == approval.round,
            )
            .values(
                status=ApprovalStatus.APPROVED.value, version=statement.version, decided_by_id=actor.id,
                decided_at=now, reason="", next_escalation_at=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise Conflict(f"The {approval.role} approval of {statement_name(statement)} was decided meanwhile.", field="statement")
        db.session.refresh(approval)
        roles.append(approval.role)
    complete = all(a.status == ApprovalStatus.APPROVED.value for a in statement.approvals)
    if complete:
        statement.status = StatementStatus.APPROVED.value
        statement.approved_at = now
    statement.updated_at = now
    waiting = [a.role for a in statement.approvals if a.status != ApprovalStatus.APPROVED.value]
    summary = f"Statement #{statement.id} approved by {actor.name} for {', '.join(roles)}"
    summary += "; ready to publish" if complete else f"; still waiting for {', '.join(waiting)}"
    record(
        incident_id=statement.incident_id, kind="statement.approved", actor=actor, summary=summary,
        data={
            "statement": statement.id, "step": statement.step_key, "version": statement.version,
            "roles": roles, "fully_approved": complete, "waiting": waiting,
        },
    )
    if complete:
        triggers.statement_approved(
            statement=statement, spokesperson_ids=triggers.live_spokespeople(statement.platform),
            step_owner_ids=_publishing_step_owners(statement), actor_id=actor.id,
        )
    return statement


def _publishing_step_owners(statement: Statement) -> list[int]:
    """Return the owners of the step that publishing this statement completes."""
    incident = statement.incident
    keys = [statement.step_key] if statement.step_key else [s.key for s in playbook_of(incident).steps if s.publishes]
    steps = [incident.step(key) for key in keys]
    return [step.owner_id for step in steps if step is not None and step.owner_id is not None
            and step.status in (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value, StepStatus.PENDING.value)]


def reject_statement(*, statement: Statement, actor: Person, reason: str, role: str | None = None) -> Statement:
    """Send a statement back to its drafter with a reason."""
    lock_statement(statement)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the statement goes back.", field="reason")
    if len(reason) > 2000:
        raise InvalidInput("The reason can be at most 2000 characters.", field="reason")
    if statement.status != StatementStatus.IN_REVIEW.value:
        raise Conflict(not_in_review(statement), field="statement")
    if not has_permission(actor, Permission.APPROVE):
        raise Forbidden("Sending statements back needs the approve permission: ask an admin.")
    approvals = _approvals_to_decide(statement, actor, role)
    now = clock.now()
    claimed = db.session.execute(
        update(Statement)
        .where(Statement.id == statement.id, Statement.status == StatementStatus.IN_REVIEW.value, Statement.version == statement.version)
        .values(status=StatementStatus.REJECTED.value, rejected_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"{capitalised(statement_name(statement))} changed meanwhile: read it again and decide.", field="statement")
    for approval in approvals:
        approval.status = ApprovalStatus.REJECTED.value
        approval.version = statement.version
        approval.decided_by_id = actor.id
        approval.decided_at = now
        approval.reason = reason
    for approval in statement.approvals:
        approval.next_escalation_at = None
    db.session.refresh(statement, attribute_names=["status", "rejected_reason", "updated_at"])
    roles = [a.role for a in approvals]
    record(
        incident_id=statement.incident_id, kind="statement.rejected", actor=actor,
        summary=f"Statement #{statement.id} sent back by {actor.name} ({', '.join(roles)}): {reason}",
        data={"statement": statement.id, "step": statement.step_key, "version": statement.version, "roles": roles, "reason": reason},
    )
    triggers.statement_sent_back(statement=statement, author_id=wording_author_id(statement), actor_id=actor.id,
                                 reason=reason)
    return statement


def _approvals_to_decide(statement: Statement, actor: Person, role: str | None) -> list[StatementApproval]:
    """Return the pending approvals the actor may decide (in `role` only, if named), or refuse."""
    approvals = decidable_approvals(actor, statement, role=role)
    if not approvals:
        raise Forbidden(not_an_approver(statement, actor, role))
    return approvals
