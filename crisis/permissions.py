"""Who may do what to which object: each rule written down once, used by every face.

System permissions (admin, declare, respond, approve, publish, view) say what a person may do
at all (`has_permission`; admin holds them all); the object rules say which incident, step,
statement, review, notification or training record they may do it to; the token rules say what
an API token's scope lets it call. Services call these and raise the refusal; the web and API
decorators (`web/access.py`, `api/routing.py`) call them and turn a refusal into a redirect, a
403 page or a JSON error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Table, exists, or_

from crisis.enums import ApprovalStatus, Permission, ResponseRole, StatementStatus

if TYPE_CHECKING:
    from crisis.incidents.models import Incident, IncidentStep
    from crisis.notifications.models import Notification
    from crisis.people.models import Person
    from crisis.reviews.models import PostIncidentReview
    from crisis.statements.models import Statement, StatementApproval

LEAD_ROLES = (ResponseRole.TRIAGE_LEAD.value, ResponseRole.COMMS_LEAD.value)


class HoldsPermissions(Protocol):
    """Whoever asks: a Person, or the live poll's lighter Watcher."""

    @property
    def permission_names(self) -> set[str] | frozenset[str]: ...

# -- system permissions ------------------------------------------------------------------------


def grants(held: Iterable[str], permission: Permission | str) -> bool:
    """Return whether the held system permissions include `permission` (admin holds all)."""
    names = set(held)
    return Permission.ADMIN.value in names or str(permission) in names


def has_permission(person: HoldsPermissions, permission: Permission | str) -> bool:
    """Return whether a person holds a system permission (admin holds all)."""
    return grants(person.permission_names, permission)


def holds_permission_clause(granted: Table, person_id: ColumnElement[Any], permission: Any) -> ColumnElement[bool]:
    """Return `grants` in SQL: whether a row of `granted` gives the person admin or `permission`."""
    return exists().where(
        granted.c.person_id == person_id,
        or_(granted.c.permission == Permission.ADMIN.value, granted.c.permission == permission),
    )


# -- API tokens --------------------------------------------------------------------------------

API_SCOPE = "api"


def scope_admits(token_scope: str, endpoint_scope: str) -> bool:
    """Return whether a token's scope may call an endpoint at all (a general token calls any)."""
    return token_scope in (endpoint_scope, API_SCOPE)


def token_may_call(*, token_scope: str, endpoint_scope: str, permitted: bool) -> bool:
    """Return whether a token may call an endpoint: its person holds the endpoint's permission,
    or the token is scoped to the endpoint's own scope (e.g. alert intake), which is the grant."""
    return permitted or (endpoint_scope != API_SCOPE and token_scope == endpoint_scope)


# -- incidents and steps -----------------------------------------------------------------------


def is_lead(person: Person, incident: Incident) -> bool:
    """Return whether a person leads this incident: admin, triage owner, or a lead role holder."""
    return (
        has_permission(person, Permission.ADMIN)
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


def can_skip_step(person: Person, incident: Incident) -> bool:
    """Return whether a person may skip a step: the triage owner, a lead or an admin."""
    return is_lead(person, incident)


def may_own_steps(person: Person) -> bool:
    """Return whether a person may be given a step: active, with the respond permission."""
    return person.active and has_permission(person, Permission.RESPOND)


def can_end_drill(person: Person, incident: Incident) -> bool:
    """Return whether a person may end a drill: whoever may manage its incident."""
    return can_manage_incident(person, incident)


# -- statements --------------------------------------------------------------------------------


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


def pending_roles(statement: Statement, person: Person) -> list[str]:
    """Return the roles whose pending approval of the statement the person could give."""
    return [a.role for a in statement.approvals if a.status == ApprovalStatus.PENDING.value and person.holds_role(a.role)]


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
        approvers = [holder for holder in holders(role) if has_permission(holder, Permission.APPROVE)]
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


def decidable_approvals(person: Person, statement: Statement, *, role: str | None = None) -> list[StatementApproval]:
    """Return the pending approvals of a statement in review that this person's roles may decide
    (only the one in `role`, if named)."""
    if statement.status != StatementStatus.IN_REVIEW.value or not has_permission(person, Permission.APPROVE):
        return []
    # Only holders of the approver role sign off, admins included: sign-off is a role, not a rank.
    return [
        a for a in statement.approvals
        if a.status == ApprovalStatus.PENDING.value and person.holds_role(a.role) and role in (None, a.role)
    ]


# -- reviews, notifications, training records -------------------------------------------------


def can_write_review(person: Person, incident: Incident, review: PostIncidentReview | None) -> bool:
    """Return whether a person may write the incident's review (any responder or declarer, while
    none exists) or change it (its author, the triage owner, a lead or an admin)."""
    if review is None:
        return has_permission(person, Permission.RESPOND) or has_permission(person, Permission.DECLARE)
    if review.author_id is not None and review.author_id == person.id:
        return True
    return is_lead(person, incident)


EDIT_REVIEW_RULE = "only its author, the triage owner, a triage or comms lead or an admin"


def owns_notification(person: Person, notification: Notification) -> bool:
    """Return whether an in-app notification is the person's own (only they may mark it read)."""
    return notification.recipient_id == person.id


def can_read_training_of(reader: Person, person: Person) -> bool:
    """Return whether `reader` may read `person`'s training records: themselves, executives, admins."""
    return reader.id == person.id or has_permission(reader, Permission.VIEW)
