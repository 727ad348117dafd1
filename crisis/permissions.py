"""Who may do what to which object: each rule written down once, used by every face.

System permissions (admin, declare, respond, approve, publish, view) say what a person may do
at all; the rules here say which incident, statement or review they may do it to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from crisis.enums import ApprovalStatus, Permission, ResponseRole, StatementStatus

if TYPE_CHECKING:
    from crisis.incidents.models import Incident, IncidentStep
    from crisis.people.models import Person
    from crisis.reviews.models import PostIncidentReview
    from crisis.statements.models import Statement, StatementApproval

LEAD_ROLES = (ResponseRole.TRIAGE_LEAD.value, ResponseRole.COMMS_LEAD.value)


def is_lead(person: Person, incident: Incident) -> bool:
    """Return whether a person leads this incident: admin, triage owner, or a lead role holder."""
    return (
        person.can(Permission.ADMIN)
        or (incident.triage_owner_id is not None and incident.triage_owner_id == person.id)
        or any(person.holds_role(role) for role in LEAD_ROLES)
    )


def can_manage_incident(person: Person, incident: Incident) -> bool:
    """Return whether a person may change severity, status, triage owner and triage answers."""
    return is_lead(person, incident) or (incident.declared_by_id is not None and incident.declared_by_id == person.id)


MANAGE_INCIDENT_RULE = "only the triage owner, the declarer, a triage or comms lead, or an admin"


def can_act_on_step(person: Person, incident: Incident, step: IncidentStep) -> bool:
    """Return whether a person may act on a step: its owner, the triage owner, admin, or a lead."""
    return (step.owner_id is not None and step.owner_id == person.id) or is_lead(person, incident)


def can_edit_statement(person: Person, statement: Statement) -> bool:
    """Return whether a person may change a statement's words: its author, the owner of its
    step, the triage owner, a lead or an admin (who may also *approve* is a separate rule)."""
    if statement.created_by_id is not None and statement.created_by_id == person.id:
        return True
    if statement.step_key is not None:
        step = next((s for s in statement.incident.steps if s.key == statement.step_key), None)
        if step is not None and step.owner_id is not None and step.owner_id == person.id:
            return True
    return is_lead(person, statement.incident)


EDIT_STATEMENT_RULE = "only its author, the owner of its step, the triage owner, a triage or comms lead or an admin"


def can_approve(person: Person, statement: Statement) -> bool:
    """Return whether the person may decide at least one pending approval of the statement."""
    return bool(decidable_approvals(person, statement)) and not wrote_current_version(person, statement)


def is_pending_approver(person: Person, statement: Statement) -> bool:
    """Return whether a pending approval waits on the person (whoever wrote the wording)."""
    return bool(decidable_approvals(person, statement))


def wrote_current_version(person: Person, statement: Statement) -> bool:
    # Four eyes: whoever wrote the wording under review cannot be the one who signs it off.
    return bool(statement.versions) and statement.versions[-1].edited_by_id == person.id


def roles_only_they_approve(
    person: Person, roles: Iterable[str], holders: Callable[[str], list[Person]]
) -> list[str]:
    """Return the approver roles whose only possible approver is this person.

    Four eyes forbid them to approve wording they wrote, so such wording would wait for ever:
    an approver who is alone on a roster may not write a version under review (nor may such a
    version be submitted); they send the statement back with their change as the reason, and its
    author or another editor writes it. `holders(role)` gives a roster's active people.
    """
    alone = []
    for role in dict.fromkeys(roles):
        approvers = [holder for holder in holders(role) if holder.can(Permission.APPROVE)]
        if approvers and all(holder.id == person.id for holder in approvers):
            alone.append(role)
    return alone


def sole_approver_message(roles: Iterable[str], *, writer: str | None = None, in_review: bool = True) -> str:
    """Say why wording by the only approver of `roles` cannot go to review, and what to do instead."""
    names = " and ".join(role.replace("-", " ") for role in roles)
    who = f"{writer} is" if writer else "You are"
    wrote = f"{writer} wrote" if writer else "you wrote"
    instead = ("Send it back with the change as the reason so its author can make it"
               if in_review else "Leave the wording to its author or another editor")
    return (
        f"{who} the only {names} approver, and nobody may approve a version {wrote}, so the statement "
        f"would wait for ever. {instead}, or ask an admin to add another {names} approver."
    )


def decidable_approvals(person: Person, statement: Statement) -> list[StatementApproval]:
    """Return the pending approvals of a statement in review that this person's roles may decide."""
    if statement.status != StatementStatus.IN_REVIEW.value or not person.can(Permission.APPROVE):
        return []
    # Only holders of the approver role sign off, admins included: sign-off is a role, not a rank.
    return [a for a in statement.approvals if a.status == ApprovalStatus.PENDING.value and person.holds_role(a.role)]


def can_write_review(person: Person, incident: Incident, review: PostIncidentReview | None) -> bool:
    """Return whether a person may write the incident's review (any responder or declarer, while
    none exists) or change it (its author, the triage owner, a lead or an admin)."""
    if review is None:
        return person.can(Permission.RESPOND) or person.can(Permission.DECLARE)
    if review.author_id is not None and review.author_id == person.id:
        return True
    return is_lead(person, incident)


EDIT_REVIEW_RULE = "only its author, the triage owner, a triage or comms lead or an admin"
