"""Incidents: declaring, step actions and lifecycle changes; each change writes one timeline event.

Rules this module keeps (the web, API and CLI only call these functions):

- Every playbook step becomes an IncidentStep row at declaration, in dependency order. A step
  whose `when` is false is skipped automatically (applicability "excluded") and counts as finished for
  the steps after it; a step whose `when` waits on an unanswered triage question stays pending
  ("undecided") and holds up its dependents until the question is answered.
- A step becomes active when every step it is `after` is done or skipped. Activation sets
  `due_at = activated_at + due_for(severity)` and the first escalation time from the policy.
- Changing the severity re-evaluates every `when`, and reschedules each active or blocked step:
  `due_at = activated_at + due_for(new severity)`; while no escalation level has fired yet its
  next escalation is recomputed from the new due time (an acknowledgement snooze still holds);
  once a level fired, the escalation path continues unchanged. Finished steps keep their history;
  pending steps get their due time when they activate.
- Step status changes are compare-and-set UPDATEs, so a racing second completion (or the
  escalation sweep) changes nothing and writes no event. Actions on one incident also take a
  row lock on the incident, so two steps finishing at once cannot both miss a dependent.
- Resolving with required steps still open needs a reason (`force_reason`); resolving or closing
  stops escalation of the open steps; reopening a resolved incident restarts it.
"""

# This module is the incidents domain's front door: the web, API and CLI import from here. The
# rules live in the modules named below, one concern each.

from crisis.incidents.changes import FINISHED, RUNNING, STATUSES, TRANSITIONS, UNFINISHED
from crisis.incidents.checks import (
    MAX_LINKS,
    MAX_NOTE,
    MAX_REASON,
    MAX_SUMMARY,
    MAX_TITLE,
    LinkInput,
    check_link,
)
from crisis.incidents.declaring import Declared, declare_incident
from crisis.incidents.lifecycle import add_note, change_incident, record_triage_answers
from crisis.incidents.queries import (
    action_profile,
    assignable_people,
    events_of,
    find_incident,
    get_incident,
    handover_candidates,
    incident_warnings,
    late_counts,
    list_incidents,
    playbook_of,
    recent_events,
    steps_for,
)
from crisis.incidents.steps import (
    acknowledge_step,
    assign_step,
    block_step,
    complete_step,
    publishing_step_keys,
    skip_step,
    unblock_step,
)
from crisis.permissions import can_act_on_step, can_manage_incident

__all__ = [
    "FINISHED", "MAX_LINKS", "MAX_NOTE", "MAX_REASON", "MAX_SUMMARY", "MAX_TITLE", "RUNNING", "STATUSES",
    "TRANSITIONS", "UNFINISHED", "Declared", "LinkInput", "acknowledge_step", "action_profile", "add_note", "assign_step",
    "assignable_people", "block_step", "can_act_on_step", "can_manage_incident", "change_incident", "check_link",
    "complete_step", "declare_incident", "events_of", "find_incident", "get_incident", "handover_candidates", "incident_warnings",
    "late_counts", "list_incidents", "playbook_of", "publishing_step_keys", "recent_events", "record_triage_answers",
    "skip_step", "steps_for", "unblock_step",
]
