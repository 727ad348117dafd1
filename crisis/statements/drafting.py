"""Drafting, editing (every edit a version) and submitting statements for approval."""

from __future__ import annotations

from datetime import datetime

from crisis import clock
from crisis.enums import ResponseRole, Severity
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.escalation.policy import first_escalation_at
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.inputs import fits_id
from crisis.notifications import triggers
from crisis.people.models import Person
from crisis.people.service import role_holders, role_primary
from crisis.permissions import (
    EDIT_STATEMENT_RULE,
    can_edit_statement,
    roles_only_they_approve,
    sole_approver_message,
)
from crisis.playbooks.definition import (
    fold_lines,
    render_template,
)
from crisis.statements.checks import (
    APPROVAL_DUE,
    EDITABLE,
    capitalised,
    clean_body,
    clean_platform,
    statement_name,
)
from crisis.statements.models import (
    ApprovalStatus,
    HoldingStatement,
    Statement,
    StatementApproval,
    StatementStatus,
    StatementVersion,
)
from crisis.statements.queries import (
    approver_roles,
    lock_statement,
    playbook_of,
    step_def_of,
    template_values,
    wording_author_id,
)
from crisis.timeline.service import record


def draft_statement(
    *,
    incident: Incident,
    actor: Person,
    platform: str,
    body: str | None = None,
    step_key: str | None = None,
    holding_statement_id: int | None = None,
) -> Statement:
    """Draft a statement: from `body`, else from a holding statement, else from the step's template."""
    platform = clean_platform(platform)
    if not incident.is_open:
        raise Conflict(f"{incident.ref} is {incident.status}: no more statements can be drafted for it.", field="incident")
    step = None
    if step_key:
        step = step_def_of(incident, step_key)
        if step is None or incident.step(step_key) is None:
            raise InvalidInput(f"{incident.ref} has no such step: choose one from the list.", field="step")
    holding = None
    if holding_statement_id is not None:
        holding = db.session.get(HoldingStatement, holding_statement_id) if fits_id(holding_statement_id) else None
        if holding is None or holding.retired_at is not None:
            raise InvalidInput("That wording is not in the library (or was retired): choose an entry from the list.", field="holding_statement")
    if body is None or not body.strip():
        source = holding.body if holding else (fold_lines(step.template) if step and step.template else None)
        if source is None:
            raise InvalidInput("Write the wording, or start from a step with a template or from the library.", field="body")
        spokesperson = role_primary(ResponseRole.SPOKESPERSON.value)
        body = render_template(source, template_values(incident=incident, platform=platform, spokesperson=spokesperson))
    body = clean_body(body)
    now = clock.now()
    statement = Statement(
        incident_id=incident.id, step_key=step_key or None, platform=platform, body=body,
        status=StatementStatus.DRAFT.value, version=1, created_by_id=actor.id, created_at=now,
        updated_at=now, holding_statement_id=holding.id if holding else None,
    )
    statement.versions.append(
        StatementVersion(number=1, body=body, platform=platform, edited_by_id=actor.id, edited_at=now)
    )
    db.session.add(statement)
    db.session.flush()
    source_note = f" from library entry “{holding.title}”" if holding else (f" for “{step.title}”" if step else "")
    record(
        incident_id=incident.id, kind="statement.drafted", actor=actor,
        summary=f"Statement #{statement.id} drafted for {platform}{source_note}",
        data={"statement": statement.id, "step": step_key, "platform": platform, "version": 1, "body": body},
    )
    return statement


def edit_statement(*, statement: Statement, actor: Person, body: str | None = None, platform: str | None = None) -> Statement:
    """Save new wording as a new version; any approval given or asked so far is reset."""
    if not can_edit_statement(actor, statement):
        raise Forbidden(f"{capitalised(statement_name(statement))} can be edited by {EDIT_STATEMENT_RULE}.", field="statement")
    lock_statement(statement)
    if statement.status not in EDITABLE:
        raise Conflict(f"{capitalised(statement_name(statement))} is {statement.status} and can no longer be edited.", field="statement")
    new_body = statement.body if body is None else clean_body(body)
    new_platform = statement.platform if platform is None else clean_platform(platform)
    if new_body == statement.body and new_platform == statement.platform:
        raise InvalidInput("Nothing changed: the wording and platform are those of the current version.", field="body")
    if statement.status in (StatementStatus.IN_REVIEW.value, StatementStatus.APPROVED.value):
        alone = roles_only_they_approve(actor, [a.role for a in statement.approvals], role_holders)
        if alone:
            raise Conflict(sole_approver_message(alone), field="body")
    now = clock.now()
    before = statement.status
    statement.version += 1
    statement.body = new_body
    statement.platform = new_platform
    statement.updated_at = now
    statement.approved_at = None
    statement.versions.append(
        StatementVersion(number=statement.version, body=new_body, platform=new_platform, edited_by_id=actor.id, edited_at=now)
    )
    reset = False
    if before in (StatementStatus.IN_REVIEW.value, StatementStatus.APPROVED.value):
        # Approvers signed off words; new words need their sign-off again.
        ask_approvals(statement, now=now)
        statement.status = StatementStatus.IN_REVIEW.value
        reset = True
        _tell_approvers(statement)
    elif before == StatementStatus.REJECTED.value:
        statement.status = StatementStatus.DRAFT.value
    summary = f"Statement #{statement.id} edited (version {statement.version})"
    if reset:
        summary += "; approvals reset"
    record(
        incident_id=statement.incident_id, kind="statement.edited", actor=actor, summary=summary,
        data={
            "statement": statement.id, "step": statement.step_key, "version": statement.version,
            "platform": new_platform, "body": new_body, "approvals_reset": reset,
            "before": before, "after": statement.status,
        },
    )
    return statement


def submit_statement(*, statement: Statement, actor: Person) -> Statement:
    """Ask the approvers to review the current version."""
    lock_statement(statement)
    if statement.status != StatementStatus.DRAFT.value:
        raise Conflict(
            f"{capitalised(statement_name(statement))} is {statement.status.replace('_', ' ')}: only a draft can be submitted for approval.",
            field="statement",
        )
    roles = approver_roles(incident=statement.incident, step_key=statement.step_key)
    writer_id = wording_author_id(statement)
    writer = db.session.get(Person, writer_id) if writer_id is not None else None
    alone = roles_only_they_approve(writer, roles, role_holders) if writer is not None else []
    if alone:
        raise Conflict(sole_approver_message(alone, writer=None if writer.id == actor.id else writer.name, in_review=False),
                       field="statement")
    now = clock.now()
    existing = {a.role for a in statement.approvals}
    for role in roles:
        if role not in existing:
            statement.approvals.append(StatementApproval(role=role, round=0))
    ask_approvals(statement, now=now)
    statement.status = StatementStatus.IN_REVIEW.value
    statement.submitted_at = now
    statement.updated_at = now
    record(
        incident_id=statement.incident_id, kind="statement.submitted", actor=actor,
        summary=f"Statement #{statement.id} submitted for approval by {', '.join(roles)}",
        data={"statement": statement.id, "step": statement.step_key, "version": statement.version, "approvers": list(roles)},
    )
    _tell_approvers(statement)
    return statement


def _tell_approvers(statement: Statement) -> None:
    pending = [a for a in statement.approvals if a.status == ApprovalStatus.PENDING.value]
    triggers.statement_waiting(
        statement=statement, roles=[a.role for a in pending], author_id=wording_author_id(statement),
        round_=max((a.round for a in pending), default=0),
        due_at=min((a.due_at for a in pending if a.due_at is not None), default=None),
    )



def ask_approvals(statement: Statement, *, now: datetime) -> None:
    """Set every approval of the statement to pending with a fresh deadline and escalation clock."""
    incident = statement.incident
    due_at = now + APPROVAL_DUE.get(incident.severity, APPROVAL_DUE[Severity.SEV1.value])
    policy = playbook_of(incident).escalation
    for approval in statement.approvals:
        approval.status = ApprovalStatus.PENDING.value
        approval.version = None
        approval.decided_by_id = None
        approval.decided_at = None
        approval.reason = ""
        approval.round += 1
        approval.due_at = due_at
        approval.escalation_level = 0
        approval.reached = []
        approval.next_escalation_at = first_escalation_at(policy, due_at) if policy.levels else due_at
