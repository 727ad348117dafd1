"""Statements whose approval waits on a person: what My steps lists beside their steps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crisis.enums import Permission
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.people.models import Person
from crisis.permissions import has_permission
from crisis.statements.models import ApprovalStatus, Statement, StatementApproval, StatementStatus
from crisis.statements.service import can_approve


def approvals_waiting_on(person: Person) -> list[Statement]:
    """Return statements in review with a pending approval in a role the person holds, oldest first.

    The statement's current author is left out (can_approve): they may not approve their own wording.
    """
    roles = {m.role for m in person.roles}
    if not roles or not has_permission(person, Permission.APPROVE):
        return []
    query = (
        select(Statement)
        .join(StatementApproval)
        .join(Incident, Statement.incident_id == Incident.id)
        .options(joinedload(Statement.incident))
        .where(
            Statement.status == StatementStatus.IN_REVIEW.value,
            StatementApproval.status == ApprovalStatus.PENDING.value,
            StatementApproval.role.in_(roles),
            Incident.closed_at.is_(None),
        )
        .order_by(Statement.submitted_at, Statement.id)
    )
    statements = list(db.session.scalars(query).unique())
    return [s for s in statements if can_approve(person, s)]

