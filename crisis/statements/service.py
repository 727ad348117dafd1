"""Public statements: draft, edit (every edit a version), approve or send back, publish.

Flow: draft -> in_review (submit) -> approved (every approver role signed the current
version) -> published (by an authorised, trained spokesperson, with the live URL).
A rejection sends the statement back ("rejected", with the reason); an edit of a rejected
statement returns it to draft. An edit of a statement in review or approved resets every
approval to pending and asks the approvers again (they approve words, not a statement id).

Approvers are the roles the step names in `approval`; a statement drafted for no step, or
for a step that names none, needs DEFAULT_APPROVERS[severity]. An approval not given by
`due_at` escalates on the incident playbook's escalation timings, each level reaching someone
new (see `crisis.escalation.targets`), never the author of the wording under review.
"""

from __future__ import annotations

# This module is the statements domain's front door: the web, API, CLI and scheduler import from
# here. The rules live in the modules named below, one concern each; who may approve is decided
# in crisis.permissions.
from crisis.permissions import can_approve, is_pending_approver
from crisis.statements.approving import approve_statement, reject_statement
from crisis.statements.checks import (
    ANY_PLATFORM,
    APPROVAL_DUE,
    DEFAULT_APPROVERS,
    EDITABLE,
    MAX_BODY,
    MAX_PLATFORM,
)
from crisis.statements.drafting import draft_statement, edit_statement, submit_statement
from crisis.statements.library import (
    add_holding_statement,
    authorise_spokesperson,
    list_holding_statements,
    list_spokespeople,
    record_training,
    retire_holding_statement,
    revoke_spokesperson,
)
from crisis.statements.overdue import sweep_overdue_approvals
from crisis.statements.publishing import publish_statement
from crisis.statements.queries import (
    approver_roles,
    get_statement,
    is_spokesperson,
    list_statements,
    roles_only_approved_by,
    statement_steps,
    template_values,
    unstaffed_approver_roles,
    wording_author_id,
)

__all__ = [
    "ANY_PLATFORM", "APPROVAL_DUE", "DEFAULT_APPROVERS", "EDITABLE", "MAX_BODY", "MAX_PLATFORM",
    "add_holding_statement", "approve_statement", "approver_roles", "authorise_spokesperson", "can_approve",
    "draft_statement", "edit_statement", "get_statement", "is_pending_approver", "is_spokesperson",
    "list_holding_statements", "list_spokespeople", "list_statements", "publish_statement", "record_training",
    "reject_statement", "retire_holding_statement", "roles_only_approved_by", "revoke_spokesperson", "statement_steps", "submit_statement",
    "sweep_overdue_approvals", "template_values", "unstaffed_approver_roles", "wording_author_id",
]
