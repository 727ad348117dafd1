"""The incidents domain: declaring, steps, conditions, dependencies, actions and lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.extensions import db
from crisis.incidents import service
from crisis.people.service import get_person
from tests.support.constants import START
from tests.support.incidents import act, counts, events, incident_state, kinds, step_state


def iso(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


# --- declaring --------------------------------------------------------------------------------

def test_references_are_sequential_per_year(app, team, incident_factory, clock):
    assert incident_factory() == "INC-2026-0001"
    assert incident_factory() == "INC-2026-0002"
    clock.set(datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert incident_factory() == "INC-2027-0001"
    assert incident_factory() == "INC-2026-0003".replace("2026-0003", "2027-0002")


def test_declaring_instantiates_every_step_and_starts_those_without_dependencies(app, team, incident_factory):
    ref = incident_factory(severity="SEV2", summary="A video of a broken kettle", links=[("tiktok", "https://tiktok.com/@a/1")])
    incident = incident_state(app, ref)
    assert incident["status"] == "declared"
    assert incident["triage_owner"] == team.lead
    assert incident["links"] == [{"platform": "tiktok", "url": "https://tiktok.com/@a/1"}]
    steps = {s["key"]: s for s in incident["steps"]}
    assert len(steps) == 15
    # Only the steps with no `after` start at once; their clocks run from the declaration.
    active = sorted(k for k, s in steps.items() if s["status"] == "active")
    assert active == ["gather-facts", "holding-statement"]
    assert steps["gather-facts"]["due_at"] == iso(15)  # SEV2: 15m
    assert steps["holding-statement"]["due_at"] == iso(30)
    # The policy's first level fires 0s after due.
    assert steps["gather-facts"]["next_escalation_at"] == iso(15)
    assert steps["assess-and-classify"]["status"] == "pending"
    assert steps["assess-and-classify"]["due_at"] is None
    # Owners come from the rosters.
    assert steps["holding-statement"]["owner"] == team.spokes
    assert steps["move-to-private"]["owner"] == team.care
    assert kinds(app, ref) == ["incident.declared", "step.activated", "step.activated"]


def test_conditional_steps_follow_severity_and_triage_answers(app, team, incident_factory):
    sev2 = {s["key"]: s for s in incident_state(app, incident_factory(severity="SEV2"))["steps"]}
    assert sev2["brief-exec-sponsor"]["applicability"] == "excluded"
    assert sev2["brief-exec-sponsor"]["status"] == "skipped"
    assert sev2["employee-guidance"]["applicability"] == "applies"
    assert sev2["respond-and-fix"]["applicability"] == "undecided"
    assert sev2["respond-and-fix"]["status"] == "pending"

    sev1 = {s["key"]: s for s in incident_state(app, incident_factory(severity="SEV1"))["steps"]}
    assert sev1["brief-exec-sponsor"]["applicability"] == "applies"

    sev4 = {s["key"]: s for s in incident_state(
        app, incident_factory(severity="SEV4", triage_answers={"author": "troll"}))["steps"]}
    assert sev4["holding-statement"]["applicability"] == "excluded"
    assert sev4["employee-guidance"]["applicability"] == "excluded"
    assert sev4["monitor-only"]["applicability"] == "applies"
    assert sev4["respond-and-fix"]["applicability"] == "excluded"
    # Only gather-facts starts at SEV4: the holding statement does not apply.
    assert [k for k, s in sev4.items() if s["status"] == "active"] == ["gather-facts"]


@pytest.mark.parametrize(
    ("roles_present", "named", "expected", "warned"),
    [
        ("primary", None, "lead@example.com", False),
        ("backup", None, "triage.backup@example.com", False),
        ("nobody", None, "declarer@example.com", True),
        ("primary", "care@example.com", "care@example.com", False),
    ],
)
def test_triage_owner_named_else_roster_primary_else_backup_else_declarer(
    app, synced, make_person, roles_present, named, expected, warned
):
    make_person("declarer@example.com", permissions=["declare", "view"])
    make_person("care@example.com", permissions=["respond"], roles=["customer-care"])
    if roles_present == "primary":
        make_person("lead@example.com", permissions=["respond"], roles=["triage-lead"])
    if roles_present in ("primary", "backup"):
        make_person("triage.backup@example.com", permissions=["respond"], roles=["triage-lead:backup"])
    with app.app_context():
        declared = service.declare_incident(
            playbook_key="wrong-price", title="Wrong price in the ad", severity="SEV3",
            declared_by=get_person("declarer@example.com"), triage_owner_email=named,
        )
        incident, warnings = declared.incident, declared.warnings
        assert incident.triage_owner.email == expected
        assert any("triage-lead roster" in w for w in warnings) is warned
        assert any("triage-lead roster" in w for w in service.incident_warnings(incident)) is warned
        db.session.commit()


def test_declaring_with_nobody_at_all_leaves_no_triage_owner_and_says_so(app, synced):
    with app.app_context():
        incident = service.declare_incident(
            playbook_key="viral-complaint", title="Spotted by a monitor", severity="SEV3",
            declared_by=None, actor_label="alertmanager",
        ).incident
        db.session.commit()
        assert incident.triage_owner is None
        assert "no triage owner" in " ".join(service.incident_warnings(incident))
        declared = service.events_of(incident)[0]
        assert declared.actor_name == "alertmanager"
        assert declared.data["triage_owner_source"] == "none"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"playbook_key": "no-such-playbook"}, "playbook"),
        ({"severity": "SEV9"}, "severity"),
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"triage_owner_email": "ghost@example.com"}, "triage_owner"),
        ({"links": [("x", "javascript:alert(1)")]}, "links.0.url"),
        ({"links": [("x", "ftp://example.com/a")]}, "links.0.url"),
        ({"links": [("", "https://example.com/a")]}, "links.0.platform"),
        ({"triage_answers": {"author": "alien"}}, "answers.author"),
        ({"triage_answers": {"colour": "red"}}, "answers.colour"),
    ],
)
def test_bad_declarations_name_the_field_and_create_nothing(app, team, synced, changes, field):
    arguments = {"playbook_key": "viral-complaint", "title": "Complaint", "severity": "SEV2"} | changes
    with app.app_context():
        with pytest.raises((InvalidInput, NotFound)) as caught:
            service.declare_incident(declared_by=get_person(team.lead), **arguments)
        db.session.rollback()
    assert caught.value.field == field
    assert counts(app) == (0, 0, 0)


# --- dependencies and step actions -----------------------------------------------------------

def test_completing_a_step_starts_its_dependents_with_fresh_due_times(app, team, incident_factory, clock):
    ref = incident_factory(severity="SEV2")
    clock.advance(minutes=12)
    done = act(app, service.complete_step, ref, team.lead, step_key="gather-facts", note="Screenshots saved")
    assert done["status"] == "done"
    assert done["note"] == "Screenshots saved"
    assert done["next_escalation_at"] is None
    assess = step_state(app, ref, "assess-and-classify")
    assert assess["status"] == "active"
    assert assess["activated_at"] == iso(12)
    assert assess["due_at"] == iso(22)  # SEV2: 10m after activation
    assert kinds(app, ref)[-2:] == ["step.completed", "step.activated"]


def test_a_step_with_several_dependencies_waits_for_all(app, team, incident_factory):
    ref = incident_factory(severity="SEV2", triage_answers={"author": "troll"})
    act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    act(app, service.complete_step, ref, team.lead, step_key="assess-and-classify")
    # resolve is after monitor-only, monitor-and-moderate and holding-statement (others excluded).
    act(app, service.complete_step, ref, team.social, step_key="monitor-only")
    act(app, service.complete_step, ref, team.social, step_key="monitor-and-moderate")
    assert step_state(app, ref, "resolve")["status"] == "pending"
    act(app, service.skip_step, ref, team.lead, step_key="holding-statement", reason="Answered by phone")
    assert step_state(app, ref, "resolve")["status"] == "active"


def test_undecided_steps_hold_up_their_dependents_until_triage_is_answered(app, team, incident_factory):
    ref = incident_factory(severity="SEV3")
    act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    act(app, service.complete_step, ref, team.lead, step_key="assess-and-classify")
    assert step_state(app, ref, "legal-marketing-review")["status"] == "pending"
    with pytest.raises(Conflict, match="triage questions"):
        act(app, service.complete_step, ref, team.legal, step_key="legal-marketing-review")
    act(app, service.record_triage_answers, ref, team.lead, answers={"author": "unhappy_customer"})
    assert step_state(app, ref, "legal-marketing-review")["status"] == "active"
    assert step_state(app, ref, "respond-with-facts")["applicability"] == "excluded"
    answered = events(app, ref, "incident.triage_answered")[0]["data"]
    assert answered["after"] == {"author": "unhappy_customer"}
    assert set(answered["steps_on"]) == {"legal-marketing-review", "respond-and-fix", "move-to-private"}
    assert set(answered["steps_off"]) == {"respond-with-facts", "monitor-only"}


def test_changing_an_answer_switches_steps_back_but_never_touches_finished_ones(app, team, incident_factory):
    ref = incident_factory(severity="SEV3", triage_answers={"author": "troll"})
    act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    act(app, service.complete_step, ref, team.lead, step_key="assess-and-classify")
    act(app, service.complete_step, ref, team.social, step_key="monitor-only", note="watched")
    act(app, service.record_triage_answers, ref, team.lead, answers={"author": "misguided"})
    assert step_state(app, ref, "monitor-only")["status"] == "done"
    assert step_state(app, ref, "legal-marketing-review")["status"] == "active"
    with pytest.raises(Conflict, match="already recorded"):
        act(app, service.record_triage_answers, ref, team.lead, answers={"author": "misguided"})
    with pytest.raises(InvalidInput) as caught:
        act(app, service.record_triage_answers, ref, team.lead, answers={"author": "alien"})
    assert caught.value.field == "answers.author"
    assert len(events(app, ref, "incident.triage_answered")) == 1


def test_a_second_complete_is_a_conflict_and_writes_nothing(app, team, incident_factory):
    ref = incident_factory()
    act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    before = kinds(app, ref)
    with pytest.raises(Conflict, match="already done by Lead"):
        act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    assert kinds(app, ref) == before
    assert before.count("step.completed") == 1


def test_only_the_owner_triage_owner_leads_and_admins_may_act_on_a_step(app, team, incident_factory):
    ref = incident_factory()
    with pytest.raises(Forbidden, match="belongs to Spokes"):
        act(app, service.acknowledge_step, ref, team.care, step_key="holding-statement")
    assert step_state(app, ref, "holding-statement")["acknowledged_at"] is None
    act(app, service.acknowledge_step, ref, team.admin, step_key="holding-statement")
    assert step_state(app, ref, "holding-statement")["acknowledged_at"] is not None


def test_acknowledging_snoozes_the_next_escalation_once(app, team, incident_factory, clock):
    ref = incident_factory(severity="SEV2")
    clock.advance(minutes=14)
    step = act(app, service.acknowledge_step, ref, team.lead, step_key="gather-facts")
    assert step["acknowledged_at"] == iso(14)
    # Level 1 was due at +15m; the snooze (15m) pushes it to +29m.
    assert step["next_escalation_at"] == iso(29)
    with pytest.raises(Conflict, match="already acknowledged"):
        act(app, service.acknowledge_step, ref, team.lead, step_key="gather-facts")
    with pytest.raises(Conflict, match="pending"):
        act(app, service.acknowledge_step, ref, team.lead, step_key="assess-and-classify")
    assert kinds(app, ref).count("step.acknowledged") == 1


def test_skipping_needs_a_lead_and_a_reason_and_releases_dependents(app, team, incident_factory):
    ref = incident_factory(severity="SEV3")
    with pytest.raises(Forbidden):
        act(app, service.skip_step, ref, team.spokes, step_key="gather-facts", reason="no time")
    with pytest.raises(InvalidInput) as caught:
        act(app, service.skip_step, ref, team.lead, step_key="gather-facts", reason="  ")
    assert caught.value.field == "reason"
    skipped = act(app, service.skip_step, ref, team.lead, step_key="gather-facts", reason="Facts already known")
    assert skipped["status"] == "skipped"
    assert skipped["note"] == "Facts already known"
    assert step_state(app, ref, "assess-and-classify")["status"] == "active"
    with pytest.raises(Conflict):
        act(app, service.skip_step, ref, team.lead, step_key="gather-facts", reason="again")
    assert kinds(app, ref).count("step.skipped") == 1


def test_block_and_unblock(app, team, incident_factory):
    ref = incident_factory()
    blocked = act(app, service.block_step, ref, team.spokes, step_key="holding-statement", reason="Waiting for legal")
    assert blocked["status"] == "blocked"
    assert blocked["blocked_reason"] == "Waiting for legal"
    assert blocked["next_escalation_at"] == iso(30)  # the clock keeps running
    with pytest.raises(Conflict, match="only an active step"):
        act(app, service.block_step, ref, team.spokes, step_key="holding-statement", reason="again")
    unblocked = act(app, service.unblock_step, ref, team.spokes, step_key="holding-statement", reason="Legal replied")
    assert unblocked["status"] == "active"
    assert unblocked["blocked_reason"] == ""
    with pytest.raises(Conflict, match="not blocked"):
        act(app, service.unblock_step, ref, team.spokes, step_key="holding-statement")
    assert [k for k in kinds(app, ref) if k.startswith("step.") and "activated" not in k] == [
        "step.blocked", "step.unblocked"]


def test_reassignment_hands_over_and_the_new_owner_can_act(app, team, incident_factory):
    ref = incident_factory()
    act(app, service.acknowledge_step, ref, team.spokes, step_key="holding-statement")
    handed = act(app, service.assign_step, ref, team.spokes, step_key="holding-statement", owner_email=team.social)
    assert handed["owner"] == team.social
    assert handed["acknowledged_at"] is None  # the new owner acknowledges afresh
    assert events(app, ref, "step.assigned")[0]["data"] == {
        "step": "holding-statement", "before": team.spokes, "after": team.social}
    with pytest.raises(Forbidden):  # the old owner is no longer the owner
        act(app, service.acknowledge_step, ref, team.spokes, step_key="holding-statement")
    act(app, service.acknowledge_step, ref, team.social, step_key="holding-statement")
    with pytest.raises(InvalidInput) as caught:
        act(app, service.assign_step, ref, team.lead, step_key="gather-facts", owner_email="ghost@example.com")
    assert caught.value.field == "owner"
    with pytest.raises(Conflict, match="already belongs to"):
        act(app, service.assign_step, ref, team.lead, step_key="gather-facts", owner_email=team.lead)
    with pytest.raises(NotFound):
        act(app, service.assign_step, ref, team.lead, step_key="no-such-step", owner_email=team.care)
    assert kinds(app, ref).count("step.assigned") == 1


# --- severity, status, notes ------------------------------------------------------------------

def test_raising_severity_reschedules_running_steps_and_switches_conditions(app, team, incident_factory, clock):
    ref = incident_factory(severity="SEV3")
    assert step_state(app, ref, "gather-facts")["due_at"] == iso(30)  # default 30m
    clock.advance(minutes=5)
    act(app, service.acknowledge_step, ref, team.spokes, step_key="holding-statement")
    changed = act(app, service.change_incident, ref, team.lead, severity="SEV1")
    steps = {s["key"]: s for s in changed["steps"]}
    assert steps["gather-facts"]["due_at"] == iso(10)  # SEV1: 10m from activation at +0
    assert steps["gather-facts"]["next_escalation_at"] == iso(10)
    assert steps["holding-statement"]["due_at"] == iso(15)
    # Acknowledged at +5m: the snooze still holds until +20m.
    assert steps["holding-statement"]["next_escalation_at"] == iso(20)
    assert steps["brief-exec-sponsor"]["applicability"] == "applies"
    assert steps["employee-guidance"]["applicability"] == "applies"
    event = events(app, ref, "incident.severity_changed")[0]["data"]
    assert (event["before"], event["after"]) == ("SEV3", "SEV1")
    assert {r["step"] for r in event["rescheduled"]} == {"gather-facts", "holding-statement"}
    assert "employee-guidance" in event["steps_on"]


def test_lowering_severity_switches_a_running_step_off_without_rescheduling_it(app, team, incident_factory, clock):
    ref = incident_factory(severity="SEV2")
    act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    act(app, service.complete_step, ref, team.lead, step_key="assess-and-classify")
    assert step_state(app, ref, "employee-guidance")["status"] == "active"
    before_due = step_state(app, ref, "employee-guidance")["due_at"]
    changed = act(app, service.change_incident, ref, team.lead, severity="SEV3")
    guidance = {s["key"]: s for s in changed["steps"]}["employee-guidance"]
    assert (guidance["status"], guidance["applicability"]) == ("skipped", "excluded")
    assert guidance["due_at"] == before_due
    assert guidance["next_escalation_at"] is None
    event = events(app, ref, "incident.severity_changed")[0]["data"]
    assert "employee-guidance" in event["steps_off"]
    assert "employee-guidance" not in {r["step"] for r in event["rescheduled"]}


def test_severity_change_keeps_the_escalation_path_once_a_level_fired(app, team, incident_factory, clock):
    ref = incident_factory(severity="SEV3")
    fired_next = START + timedelta(minutes=45)
    with app.app_context():
        step = service.get_incident(ref).step("gather-facts")
        step.escalation_level = 1  # what the sweep leaves behind after firing level 1
        step.next_escalation_at = fired_next
        db.session.commit()
    changed = act(app, service.change_incident, ref, team.lead, severity="SEV4")
    gather = next(s for s in changed["steps"] if s["key"] == "gather-facts")
    assert gather["due_at"] == iso(30)  # SEV4 uses the default too
    assert gather["next_escalation_at"] == fired_next.isoformat()
    lowered = {s["key"]: s for s in changed["steps"]}
    assert lowered["holding-statement"]["applicability"] == "excluded"
    assert lowered["holding-statement"]["next_escalation_at"] is None


def test_status_transitions_are_validated(app, team, incident_factory):
    ref = incident_factory(severity="SEV3")
    with pytest.raises(Conflict, match="cannot go from declared to closed"):
        act(app, service.change_incident, ref, team.lead, status="closed")
    with pytest.raises(InvalidInput) as caught:
        act(app, service.change_incident, ref, team.lead, status="finished")
    assert caught.value.field == "status"
    act(app, service.change_incident, ref, team.lead, status="triage")
    act(app, service.change_incident, ref, team.lead, status="responding")
    with pytest.raises(Conflict, match="required step"):
        act(app, service.change_incident, ref, team.lead, status="resolved")
    assert incident_state(app, ref)["status"] == "responding"
    resolved = act(app, service.change_incident, ref, team.lead, status="resolved",
                   force_reason="Customer withdrew the post")
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] is not None
    # Resolving stops escalation of the steps left open.
    assert all(s["next_escalation_at"] is None for s in resolved["steps"])
    forced = events(app, ref, "incident.status_changed")[-1]["data"]
    assert forced["forced"]["reason"] == "Customer withdrew the post"
    assert "gather-facts" in forced["forced"]["open_steps"]
    reopened = act(app, service.change_incident, ref, team.lead, status="responding")
    assert reopened["resolved_at"] is None
    assert next(s for s in reopened["steps"] if s["key"] == "gather-facts")["next_escalation_at"] == iso(30)
    act(app, service.change_incident, ref, team.lead, status="resolved", force_reason="Really over")
    act(app, service.change_incident, ref, team.lead, status="closed")
    with pytest.raises(Conflict, match="closed"):
        act(app, service.change_incident, ref, team.lead, status="responding")
    with pytest.raises(Conflict, match="closed"):
        act(app, service.complete_step, ref, team.lead, step_key="gather-facts")
    assert kinds(app, ref).count("incident.status_changed") == 6


def test_resolving_without_force_works_once_required_steps_are_finished(app, team, incident_factory):
    ref = incident_factory(severity="SEV4", triage_answers={"author": "troll"})
    for key, who in [("gather-facts", team.lead), ("assess-and-classify", team.lead),
                     ("notify-stakeholders", team.lead), ("monitor-only", team.social),
                     ("monitor-and-moderate", team.social), ("resolve", team.lead)]:
        act(app, service.complete_step, ref, who, step_key=key)
    # post-incident-review is open but not required.
    assert step_state(app, ref, "post-incident-review")["status"] == "active"
    resolved = act(app, service.change_incident, ref, team.lead, status="resolved")
    assert "forced" not in events(app, ref, "incident.status_changed")[-1]["data"]
    assert resolved["status"] == "resolved"
    # Steps stay workable after resolution.
    act(app, service.complete_step, ref, team.lead, step_key="post-incident-review")


def test_closing_a_sev2_needs_a_post_incident_review(app, team, incident_factory):
    ref = incident_factory(severity="SEV2")
    act(app, service.change_incident, ref, team.lead, status="resolved", force_reason="Drill over")
    with pytest.raises(Conflict, match="post-incident review"):
        act(app, service.change_incident, ref, team.lead, status="closed")
    assert incident_state(app, ref)["status"] == "resolved"


def test_changes_need_a_lead_or_the_declarer(app, team, incident_factory):
    ref = incident_factory(declared_by=team.triage_backup)
    with pytest.raises(Forbidden):
        act(app, service.change_incident, ref, team.care, severity="SEV1")
    with pytest.raises(Forbidden):
        act(app, service.record_triage_answers, ref, team.care, answers={"author": "troll"})
    act(app, service.change_incident, ref, team.triage_backup, severity="SEV1")  # the declarer
    moved = act(app, service.change_incident, ref, team.lead, triage_owner_email=team.triage_backup)
    assert moved["triage_owner"] == team.triage_backup
    assert events(app, ref, "incident.triage_owner_changed")[0]["data"] == {
        "before": team.lead, "after": team.triage_backup}
    with pytest.raises(InvalidInput, match="Nothing to change"):
        act(app, service.change_incident, ref, team.lead)


def test_notes(app, team, incident_factory):
    ref = incident_factory()
    act(app, service.add_note, ref, team.care, text="Customer called the hotline too")
    with pytest.raises(InvalidInput):
        act(app, service.add_note, ref, team.care, text=" ")
    note = events(app, ref, "incident.note")
    assert len(note) == 1
    assert note[0]["data"] == {"text": "Customer called the hotline too"}
    assert note[0]["actor"] == team.care


ONE_EVENT_ACTIONS = [
    ("step.acknowledged", service.acknowledge_step, "lead", {"step_key": "gather-facts"}),
    ("step.completed", service.complete_step, "lead", {"step_key": "gather-facts", "note": "n"}),
    ("step.skipped", service.skip_step, "lead", {"step_key": "holding-statement", "reason": "r"}),
    ("step.blocked", service.block_step, "spokes", {"step_key": "holding-statement", "reason": "r"}),
    ("step.assigned", service.assign_step, "lead", {"step_key": "gather-facts", "owner_email": "care@example.com"}),
    ("incident.severity_changed", service.change_incident, "lead", {"severity": "SEV3"}),
    ("incident.status_changed", service.change_incident, "lead", {"status": "triage"}),
    ("incident.triage_owner_changed", service.change_incident, "lead", {"triage_owner_email": "admin@example.com"}),
    ("incident.triage_answered", service.record_triage_answers, "lead", {"answers": {"spreading": "no"}}),
    ("incident.note", service.add_note, "care", {"text": "hello"}),
]


@pytest.mark.parametrize(("kind", "action", "who", "arguments"), ONE_EVENT_ACTIONS, ids=[a[0] for a in ONE_EVENT_ACTIONS])
def test_every_action_writes_exactly_one_event_of_its_kind(app, team, incident_factory, kind, action, who, arguments):
    ref = incident_factory(severity="SEV2")
    before = kinds(app, ref)
    act(app, action, ref, getattr(team, who), **arguments)
    after = kinds(app, ref)
    added = after[len(before):]
    assert added[0] == kind
    assert added.count(kind) == 1
    # Anything else written is a consequence: steps that started because of the change.
    assert set(added[1:]) <= {"step.activated"}
