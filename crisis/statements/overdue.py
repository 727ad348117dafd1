"""Escalation of overdue approvals: each level reaches someone new, never the author."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from crisis import clock
from crisis.enums import OPEN_STATUSES
from crisis.escalation.policy import escalation_time, level_for
from crisis.escalation.targets import Directory, resolve_level
from crisis.extensions import db
from crisis.notifications.service import notify
from crisis.notifications.triggers import by_local_time, local_time
from crisis.statements.models import (
    ApprovalStatus,
    Statement,
    StatementApproval,
    StatementStatus,
)
from crisis.statements.queries import playbook_of, wording_author_id
from crisis.timeline.service import record


def sweep_overdue_approvals(now: datetime | None = None) -> int:
    """Escalate every pending approval whose next escalation is due; return how many levels fired.

    Targets resolve as for steps (crisis.escalation.targets), the approver role standing in for
    the step's role; the author of the wording under review is never a target. Approvals of an
    incident that is resolved or closed stop escalating.
    """
    now = now or clock.now()
    due = db.session.scalars(
        select(StatementApproval)
        .join(Statement)
        .where(
            StatementApproval.next_escalation_at.is_not(None),
            StatementApproval.next_escalation_at <= now,
            StatementApproval.status == ApprovalStatus.PENDING.value,
            Statement.status == StatementStatus.IN_REVIEW.value,
        )
        .order_by(StatementApproval.next_escalation_at, StatementApproval.id)
        .limit(500)
    ).all()
    fired = 0
    directory = Directory()
    for approval in due:
        statement = approval.statement
        incident = statement.incident
        playbook = playbook_of(incident)
        policy = playbook.escalation
        seen = approval.escalation_level
        level = seen + 1
        running = incident.status in OPEN_STATUSES
        following = escalation_time(policy, approval.due_at, level + 1) if approval.due_at and running else None
        # Compare-and-set: only the process that moves the level from `seen` writes anything.
        claimed = db.session.execute(
            update(StatementApproval)
            .where(
                StatementApproval.id == approval.id,
                StatementApproval.escalation_level == seen,
                StatementApproval.round == approval.round,
                StatementApproval.status == ApprovalStatus.PENDING.value,
                # The row may have been reread after another sweep's commit: still due?
                StatementApproval.next_escalation_at <= now,
            )
            .values(escalation_level=level if running else seen, next_escalation_at=following)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1 or not running:
            # Lost the claim, or the incident is over: its approvals stop escalating.
            db.session.commit() if claimed == 1 else db.session.rollback()
            continue
        rule = level_for(policy, level)
        reach = resolve_level(
            rule.notify if rule else ("owner", "role_lead"), owner_id=None, triage_owner_id=incident.triage_owner_id,
            role=approval.role, triage_role=playbook.triage_role, reached=set(approval.reached or ()),
            exclude={wording_author_id(statement)} - {None}, directory=directory,
        )
        recipients = reach.people
        approval.reached = sorted(set(approval.reached or ()) | {p.id for p in recipients})
        channels = rule.channels if rule else ("email", "in_app", "webhook")
        subject = f"[{incident.ref}] {approval.role} approval of statement #{statement.id} is overdue"
        # Each recipient reads the due time in their own zone; the team's webhooks in the desk's.
        groups = list(by_local_time(approval.due_at, recipients).items())
        if "webhook" in channels:
            groups.append((local_time(approval.due_at, None), []))
        for due, people in groups:
            body = (
                f"The {approval.role} sign-off of statement #{statement.id} on {incident.ref} "
                f"({incident.title}) was due at {due} and is still missing "
                f"(escalation level {level}).\n\n{statement.body}"
            )
            notify(
                recipients=people, subject=subject, body=body, incident=incident,
                dedup_key=f"statement-approval:{approval.id}:r{approval.round}:l{level}",
                channels=[c for c in channels if c != "webhook"] if people else ["webhook"],
                link=f"{current_app.config['BASE_URL'].rstrip('/')}/incidents/{incident.ref}#statement-{statement.id}",
            )
        summary = f"The {approval.role} approval of statement #{statement.id} is overdue; escalation level {level}"
        if reach.nobody_new:
            summary += "; nobody new was left to reach"
        record(
            incident_id=incident.id, kind="statement.escalated", actor_label="scheduler", summary=summary,
            data={
                "statement": statement.id, "step": statement.step_key, "role": approval.role,
                "level": level, "notified": [p.email for p in recipients],
                **({"nobody_new": True} if reach.nobody_new else {}),
            },
            at=now,
        )
        db.session.commit()
        fired += 1
    return fired
