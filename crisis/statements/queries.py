"""Reading statements: one or all of an incident's, template values, approver roles, spokespeople."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from crisis.db.keyset import after_key
from crisis.enums import Permission, Severity
from crisis.errors import NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.inputs import fits_id
from crisis.people.models import Person
from crisis.people.service import role_holders
from crisis.permissions import has_permission, roles_only_they_approve
from crisis.playbooks.definition import (
    TEMPLATE_FIELDS,
    Playbook,
    StepDef,
)
from crisis.playbooks.service import definition_of
from crisis.statements.checks import ANY_PLATFORM, DEFAULT_APPROVERS
from crisis.statements.models import (
    ApprovalStatus,
    SpokespersonAuthorisation,
    Statement,
)
from crisis.training.service import spokesperson_training_problem


def get_statement(*, incident: Incident, statement_id: int) -> Statement:
    """Return a statement of this incident, or raise NotFound."""
    statement = db.session.get(Statement, statement_id) if fits_id(statement_id) else None
    if statement is None or statement.incident_id != incident.id:
        raise NotFound(f"{incident.ref} has no such statement.", field="statement")
    return statement


def list_statements(*, incident: Incident, limit: int | None = None, after: Sequence[Any] | None = None) -> list[Statement]:
    """Return an incident's statements, oldest first (optionally only those after the id of the last one seen)."""
    query = select(Statement).where(Statement.incident_id == incident.id)
    keyset = after_key((Statement.id,), after, descending=False)
    if keyset is not None:
        query = query.where(keyset)
    return list(db.session.scalars(query.order_by(Statement.id).limit(limit)))


def template_values(*, incident: Incident, platform: str = "", spokesperson: Person | None = None) -> dict[str, str]:
    """Return the values for every TEMPLATE_FIELDS placeholder, taken from the incident."""
    link = next((item for item in incident.links if not platform or item.platform == platform), None)
    link = link or (incident.links[0] if incident.links else None)
    values = {
        "incident_ref": incident.ref,
        "incident_title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity,
        "platform": platform or (link.platform if link else ""),
        "link": link.url if link else "",
        "company": current_app.config.get("COMPANY_NAME", ""),
        # Public wording speaks the organisation's time zone, not the reader's.
        "declared_at": incident.declared_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%d %b %Y %H:%M %Z"),
        "triage_owner": incident.triage_owner.name if incident.triage_owner else "",
        "spokesperson": spokesperson.name if spokesperson else "",
    }
    # A field added to TEMPLATE_FIELDS later stays visible as "[field]" until filled here.
    return {name: values.get(name, "") for name in TEMPLATE_FIELDS}


def approver_roles(*, incident: Incident, step_key: str | None) -> tuple[str, ...]:
    """Return the roles that must approve a statement drafted for this step (or none)."""
    step = step_def_of(incident, step_key) if step_key else None
    if step is not None and step.approval:
        return tuple(step.approval)
    return DEFAULT_APPROVERS.get(incident.severity, DEFAULT_APPROVERS[Severity.SEV1.value])


def statement_steps(*, incident: Incident) -> list[StepDef]:
    """Return the incident's steps a statement can be drafted for (a template, or publishing)."""
    playbook = playbook_of(incident)
    present = {step.key for step in incident.steps}
    return [s for s in playbook.steps if s.key in present and (s.template or s.publishes)]


def unstaffed_approver_roles(*, statement: Statement) -> list[str]:
    """Return the approver roles this statement needs that nobody active holds (it would wait forever)."""
    roles = [a.role for a in statement.approvals] or list(approver_roles(incident=statement.incident, step_key=statement.step_key))
    return [role for role in roles if not role_holders(role)]


def roles_only_approved_by(person: Person, statement: Statement) -> list[str]:
    """Return the approver roles of this statement that only this person could sign off (so
    wording they write could never be approved; see crisis.permissions)."""
    roles = [a.role for a in statement.approvals] or list(approver_roles(incident=statement.incident, step_key=statement.step_key))
    return roles_only_they_approve(person, roles, role_holders)


def is_spokesperson(person: Person, platform: str) -> bool:
    """Return whether the person may publish on this platform now (authorised, trained, permitted)."""
    if not person.active or not has_permission(person, Permission.PUBLISH):
        return False
    return live_authorisation(person, platform) is not None and spokesperson_training_problem(person=person) is None


def wording_author_id(statement: Statement) -> int | None:
    """Return who wrote the wording under review (the current version's editor, else the drafter)."""
    for version in statement.versions:
        if version.number == statement.version and version.edited_by_id is not None:
            return version.edited_by_id
    return statement.created_by_id


def playbook_of(incident: Incident) -> Playbook:
    return definition_of(incident.playbook_version)


def step_def_of(incident: Incident, step_key: str | None) -> StepDef | None:
    if not step_key:
        return None
    try:
        return playbook_of(incident).step(step_key)
    except KeyError:
        return None


def live_authorisation(person: Person, platform: str) -> SpokespersonAuthorisation | None:
    return db.session.scalar(
        select(SpokespersonAuthorisation).where(
            SpokespersonAuthorisation.person_id == person.id,
            SpokespersonAuthorisation.platform.in_([platform, ANY_PLATFORM]),
            SpokespersonAuthorisation.revoked_at.is_(None),
            SpokespersonAuthorisation.trained_at.is_not(None),
        ).limit(1)
    )


def fully_approved(statement: Statement) -> bool:
    return bool(statement.approvals) and all(
        a.status == ApprovalStatus.APPROVED.value and a.version == statement.version for a in statement.approvals
    )


def lock_statement(statement: Statement) -> None:
    """Take the statement's row lock and reread it, so decisions on one statement queue up.

    Two approvers signing at once would otherwise each see the other's role still pending and
    neither would mark the statement approved. SQLite takes its write lock at BEGIN IMMEDIATE.
    """
    db.session.execute(select(Statement.id).where(Statement.id == statement.id).with_for_update())
    db.session.refresh(statement)
    for approval in statement.approvals:
        db.session.refresh(approval)
