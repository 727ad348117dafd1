"""The escalation sweep: who hears what when, exactly once, and what stops it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crisis import clock as crisis_clock
from crisis.escalation.engine import next_escalation_after, run_sweep
from crisis.escalation.models import StepEscalation
from crisis.escalation.policy import after_acknowledge
from crisis.extensions import db
from crisis.incidents.models import IncidentStep
from crisis.notifications.models import Notification, Webhook
from crisis.timeline.models import TimelineEvent
from tests.support.builders import (
    DEFAULT_POLICY,
    bulk_steps,
    incident,
    playbook_version,
    policy,
    step,
)


def escalations(step_id: int) -> list[TimelineEvent]:
    return [
        e
        for e in db.session.scalars(
            select(TimelineEvent).where(TimelineEvent.kind == "step.escalated").order_by(TimelineEvent.id)
        )
        if _step_of(e) == step_id
    ]


def _step_of(event: TimelineEvent) -> int | None:
    return db.session.scalar(
        select(IncidentStep.id).where(IncidentStep.incident_id == event.incident_id, IncidentStep.key == event.data["step"])
    )


def outbox(dedup_prefix: str) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(Notification).where(Notification.dedup_key.startswith(dedup_prefix)).order_by(Notification.id)
    )
    return [(row.channel, row.address or (row.recipient.email if row.recipient else "")) for row in rows]


@pytest.fixture
def one_step(app, crew, person):
    """An incident with one active step owned by owner@, due in 15 minutes, and a webhook."""
    with app.app_context():
        version = playbook_version()
        item = incident(version, triage_owner=person(crew["triage"]))
        row = step(item, owner=person(crew["owner"]))
        db.session.add(Webhook(name="desk", url="http://127.0.0.1:9/hook", format="slack"))
        db.session.commit()
        return row.id


def test_levels_fire_in_order_to_the_policys_people(app, one_step, clock):
    with app.app_context():
        assert run_sweep().escalated == 0
        clock.advance(minutes=15)
        assert run_sweep().escalated == 1
        assert run_sweep().escalated == 0, "a second sweep at the same time fires nothing"
        events = escalations(one_step)
        assert [(e.data["level"], e.data["notified"], e.actor_name) for e in events] == [
            (1, ["owner@example.com"], "scheduler")
        ]
        assert outbox(f"escalation:{one_step}:1:") == [("email", "owner@example.com"), ("in_app", "owner@example.com")]

        clock.advance(minutes=9, seconds=59)
        assert run_sweep().escalated == 0
        clock.advance(seconds=1)
        assert run_sweep().escalated == 1
        level2 = escalations(one_step)[-1]
        assert level2.data == {"step": "respond", "level": 2, "notified": ["triage@example.com", "lead@example.com"]}
        assert sorted(outbox(f"escalation:{one_step}:2:")) == [
            ("email", "lead@example.com"),
            ("email", "triage@example.com"),
            ("in_app", "lead@example.com"),
            ("in_app", "triage@example.com"),
            ("webhook", "http://127.0.0.1:9/hook"),
        ]

        clock.advance(minutes=20)
        assert run_sweep().escalated == 1
        assert escalations(one_step)[-1].data["notified"] == ["exec@example.com"]
        # The level names email and webhook; executives are reached in the app as well.
        assert sorted(outbox(f"escalation:{one_step}:3:")) == [
            ("email", "exec@example.com"),
            ("in_app", "exec@example.com"),
            ("webhook", "http://127.0.0.1:9/hook"),
        ]
        row = db.session.get(IncidentStep, one_step)
        assert (row.escalation_level, row.next_escalation_at) == (3, None), "no repeat configured: escalation ends"
        clock.advance(hours=5)
        assert run_sweep().escalated == 0
        levels = db.session.scalars(select(StepEscalation.level).where(StepEscalation.step_id == one_step))
        assert sorted(levels) == [1, 2, 3]


def test_timeline_event_and_escalation_row_carry_the_due_time(app, one_step, clock):
    with app.app_context():
        due = db.session.get(IncidentStep, one_step).due_at
        clock.advance(minutes=16)
        run_sweep()
        fired = db.session.scalar(select(StepEscalation).where(StepEscalation.step_id == one_step))
        assert (fired.level, fired.due_at, fired.fired_at) == (1, due, crisis_clock.now())
        event = escalations(one_step)[0]
        assert event.at == crisis_clock.now()
        assert "overdue" in event.summary and "told Owner" in event.summary


def test_last_level_repeats_and_missed_repeats_collapse_after_downtime(app, crew, person, clock):
    repeating = policy(
        (0, ("owner",), ("in_app",)), (10, ("role_lead",), ("in_app",)), repeat_every=30
    )
    with app.app_context():
        version = playbook_version(repeating, key="repeating")
        row = step(incident(version), owner=person(crew["owner"]), escalation=repeating)
        db.session.commit()
        step_id, due = row.id, row.due_at
        # Nothing ran for two hours after the step fell due: the first sweep catches up on the
        # two distinct levels, and the four missed reminders become one.
        clock.set(due + timedelta(hours=2))
        assert run_sweep().escalated == 3
        assert [e.data["level"] for e in escalations(step_id)] == [1, 2, 3]
        row = db.session.get(IncidentStep, step_id)
        assert row.next_escalation_at == due + timedelta(minutes=130)
        clock.set(due + timedelta(minutes=130))
        assert run_sweep().escalated == 1
        # Every level reaches someone new: the role's primary (2), its backup (3), then, with the
        # role's roster used up and no triage backup, the executive sponsor (4).
        assert [e.data["notified"] for e in escalations(step_id)[1:]] == [
            ["lead@example.com"], ["backup@example.com"], ["exec@example.com"]
        ]
        assert outbox(f"escalation:{step_id}:4:") == [("in_app", "exec@example.com")]


def test_next_escalation_after_follows_policy_times():
    due = crisis_clock.now()
    repeating = policy((0, ("owner",), ("in_app",)), (10, ("role_lead",), ("in_app",)), repeat_every=30)
    assert next_escalation_after(repeating, due, 1, due) == due + timedelta(minutes=10)
    assert next_escalation_after(repeating, due, 2, due + timedelta(minutes=10)) == due + timedelta(minutes=40)
    assert next_escalation_after(repeating, due, 3, due + timedelta(minutes=40)) == due + timedelta(minutes=70)
    # Fired level 3 very late: the next reminder is the first repeat time after now.
    assert next_escalation_after(repeating, due, 3, due + timedelta(minutes=100)) == due + timedelta(minutes=130)
    assert next_escalation_after(DEFAULT_POLICY, due, 3, due + timedelta(hours=9)) is None


def test_acknowledging_pauses_the_next_level_for_the_snooze(app, one_step, clock):
    with app.app_context():
        clock.advance(minutes=15)
        run_sweep()
        # What acknowledge_step does to the escalation state (crisis.escalation.policy).
        row = db.session.get(IncidentStep, one_step)
        row.acknowledged_at = crisis_clock.now()
        row.next_escalation_at = after_acknowledge(DEFAULT_POLICY, row.next_escalation_at, crisis_clock.now())
        db.session.commit()
        clock.advance(minutes=10)
        assert run_sweep().escalated == 0, "level 2 would be due now, but the owner acknowledged"
        clock.advance(minutes=5)
        assert run_sweep().escalated == 1
        assert [e.data["level"] for e in escalations(one_step)] == [1, 2]
        bodies = db.session.scalars(
            select(Notification.body).where(Notification.dedup_key.startswith(f"escalation:{one_step}:2:in_app:"))
        ).all()
        assert bodies and all("acknowledged" in body for body in bodies)


@pytest.mark.parametrize("final", ["done", "skipped"])
def test_completing_or_skipping_stops_all_escalation(app, one_step, clock, final):
    with app.app_context():
        clock.advance(minutes=15)
        run_sweep()
        row = db.session.get(IncidentStep, one_step)
        row.status, row.next_escalation_at = final, None
        db.session.commit()
        clock.advance(hours=3)
        assert run_sweep().escalated == 0
        assert len(escalations(one_step)) == 1


def test_done_step_with_a_stale_escalation_time_is_never_escalated(app, one_step, clock):
    with app.app_context():
        # The status alone decides: even if a due time were left behind, a done step is out.
        db.session.get(IncidentStep, one_step).status = "done"
        db.session.commit()
        clock.advance(hours=1)
        assert run_sweep().escalated == 0
        assert escalations(one_step) == []


def test_blocked_steps_keep_escalating(app, one_step, clock):
    with app.app_context():
        db.session.get(IncidentStep, one_step).status = "blocked"
        db.session.commit()
        clock.advance(minutes=15)
        assert run_sweep().escalated == 1


def test_steps_of_closed_incidents_stop_escalating_silently(app, crew, person, clock):
    with app.app_context():
        version = playbook_version()
        row = step(incident(version, status="closed"), owner=person(crew["owner"]))
        db.session.commit()
        clock.advance(minutes=20)
        result = run_sweep()
        assert (result.escalated, result.stopped) == (0, 1)
        row = db.session.get(IncidentStep, row.id)
        assert row.next_escalation_at is None and row.escalation_level == 0
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_unowned_step_goes_to_the_role_primary_then_backup(app, crew, person, clock):
    with app.app_context():
        version = playbook_version()
        first = step(incident(version), owner=None)
        db.session.commit()
        clock.advance(minutes=15)
        run_sweep()
        assert escalations(first.id)[0].data["notified"] == ["lead@example.com"]
        person(crew["lead"]).active = False
        second = step(incident(version), owner=None)
        db.session.commit()
        clock.advance(minutes=15)
        run_sweep()
        assert escalations(second.id)[0].data["notified"] == ["backup@example.com"]


def test_nobody_to_notify_is_still_recorded(app, clock):
    with app.app_context():
        version = playbook_version()
        row = step(incident(version), owner=None, role="hr")
        db.session.commit()
        clock.advance(minutes=15)
        assert run_sweep().escalated == 1
        event = escalations(row.id)[0]
        assert event.data["notified"] == [] and "nobody" in event.summary


def test_role_target_and_channel_preferences(app, crew, person, clock):
    legal_policy = policy((0, ("role:legal", "owner"), ("in_app", "email")))
    with app.app_context():
        person(crew["legal"]).notify_email = False
        person(crew["owner"]).notify_in_app = False
        version = playbook_version(legal_policy, key="legal")
        row = step(incident(version), owner=person(crew["owner"]), escalation=legal_policy)
        db.session.commit()
        clock.advance(minutes=15)
        run_sweep()
        assert escalations(row.id)[0].data["notified"] == ["legal@example.com", "owner@example.com"]
        assert sorted(outbox(f"escalation:{row.id}:1:")) == [("email", "owner@example.com"), ("in_app", "legal@example.com")]


def test_drill_escalations_say_so(app, crew, person, clock):
    with app.app_context():
        version = playbook_version()
        row = step(incident(version, is_drill=True), owner=person(crew["owner"]))
        db.session.commit()
        clock.advance(minutes=15)
        run_sweep()
        email = db.session.scalar(select(Notification).where(Notification.channel == "email"))
        assert "[DRILL]" in email.subject and "[DRILL]" in email.body
        assert email.subject.startswith(f"[crisis] [DRILL] {row.incident.ref} Overdue (level 1)")


def test_second_escalation_of_a_level_is_impossible_in_the_database(app, one_step):
    with app.app_context():
        db.session.add(StepEscalation(step_id=one_step, level=1))
        db.session.commit()
        db.session.add(StepEscalation(step_id=one_step, level=1))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(StepEscalation(step_id=one_step, level=2))
        db.session.commit()
        assert db.session.scalar(select(func.count(StepEscalation.id))) == 2


def test_extra_sweeps_run_after_the_step_sweep(app, clock):
    seen = []
    with app.app_context():
        result = run_sweep(extra=[lambda now: seen.append(now) or 7])
    assert seen == [crisis_clock.now()]
    assert list(result.extra.values()) == [7]


def test_a_failing_extra_sweep_does_not_stop_escalation(app, one_step, clock):
    def broken(now):
        raise RuntimeError("boom")

    with app.app_context():
        clock.advance(minutes=15)
        result = run_sweep(extra=[broken])
        assert (result.escalated, result.errors) == (1, 1)
        assert len(escalations(one_step)) == 1


def test_large_backlog_is_worked_through_in_batches(app, crew, person, clock):
    with app.app_context():
        version = playbook_version()
        ids = bulk_steps(
            version, incidents=50, steps_per_incident=5, due_at=crisis_clock.now(), owner_id=person(crew["owner"]).id
        )
        db.session.commit()
        result = run_sweep(batch_size=40)
        assert result.escalated == 250 and result.batches >= 7
        assert db.session.scalar(select(func.count(StepEscalation.id))) == 250
        assert db.session.scalar(
            select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "step.escalated")
        ) == 250
        assert {db.session.get(IncidentStep, i).escalation_level for i in ids} == {1}


def test_concurrent_sweeps_in_threads_escalate_each_level_once(app, crew, person, clock):
    with app.app_context():
        version = playbook_version()
        bulk_steps(version, incidents=60, steps_per_incident=5, due_at=crisis_clock.now() - timedelta(hours=1),
                   owner_id=person(crew["owner"]).id)
        db.session.commit()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweeper() -> None:
        try:
            with app.app_context():
                barrier.wait()
                while run_sweep(batch_size=25).escalated:
                    pass
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        # Due an hour ago: levels 1-3 of each of the 300 steps, each exactly once.
        assert db.session.scalar(select(func.count(StepEscalation.id))) == 900
        events = db.session.scalar(select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "step.escalated"))
        assert events == 900
        keys = db.session.scalars(select(Notification.dedup_key)).all()
        # owner: in_app + email; level 2: triage owner unset, lead in_app + email; level 3: exec email
        # and in-app (the executive level always reaches executives in the app).
        assert len(keys) == len(set(keys)) == 300 * 6


def test_completion_racing_a_sweep_is_never_followed_by_an_escalation(app, crew, person, clock):
    """The step is either escalated before its completion or not at all (20 races)."""
    outcomes = set()
    for attempt in range(20):
        with app.app_context():
            version = playbook_version(key=f"race-{attempt}")
            row = step(incident(version), owner=person(crew["owner"]))
            db.session.commit()
            step_id, incident_id = row.id, row.incident_id
        clock.advance(minutes=16)
        assert _race(app, step_id, incident_id) == []
        with app.app_context():
            events = list(
                db.session.scalars(
                    select(TimelineEvent).where(TimelineEvent.incident_id == incident_id).order_by(TimelineEvent.id)
                )
            )
            kinds = [e.kind for e in events]
            assert kinds in (["step.completed"], ["step.escalated", "step.completed"]), kinds
            outcomes.add(tuple(kinds))
            row = db.session.get(IncidentStep, step_id)
            assert row.status == "done" and row.next_escalation_at is None
            escalated = db.session.scalar(select(func.count(StepEscalation.id)).where(StepEscalation.step_id == step_id))
            assert escalated == kinds.count("step.escalated") == row.escalation_level
            clock.advance(hours=2)
            run_sweep()
            assert db.session.scalar(
                select(func.count(StepEscalation.id)).where(StepEscalation.step_id == step_id)
            ) == escalated, "nothing escalates after the completion"
    assert outcomes, "every race finished with one of the two allowed orders"


def _race(app, step_id: int, incident_id: int) -> list[BaseException]:
    """Start a sweep and a completion of the step at the same instant; return any errors."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            with app.app_context():
                barrier.wait()
                action()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(run_sweep,)),
        threading.Thread(target=run, args=(lambda: _complete(step_id, incident_id),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def _complete(step_id: int, incident_id: int) -> None:
    """Complete a step the way the incident service must: a compare-and-set, then its event."""
    from crisis.timeline.service import record

    won = db.session.execute(
        IncidentStep.__table__.update()
        .where(IncidentStep.id == step_id, IncidentStep.status.in_(("active", "blocked")))
        .values(status="done", completed_at=crisis_clock.now(), next_escalation_at=None)
    ).rowcount
    if won:
        record(incident_id=incident_id, kind="step.completed", summary="done", data={"step": "respond"})
    db.session.commit()


def test_an_unreadable_playbook_version_still_escalates_once_and_blocks_nobody(app, crew, person, clock, caplog):
    from crisis.playbooks.models import PlaybookVersion

    with app.app_context():
        broken = PlaybookVersion(key="broken", version=1, title="Broken", content_hash="broken",
                                 definition={"key": "broken"})
        db.session.add(broken)
        db.session.flush()
        lost = step(incident(broken, triage_owner=person(crew["triage"])), owner=person(crew["owner"]))
        fine = step(incident(playbook_version()), owner=person(crew["owner"]))
        db.session.commit()
        clock.advance(minutes=15)
        assert run_sweep().escalated == 2
        assert escalations(lost.id)[0].data["notified"] == ["owner@example.com", "triage@example.com",
                                                             "lead@example.com"]
        assert escalations(fine.id)[0].data["notified"] == ["owner@example.com"]
        assert db.session.get(IncidentStep, lost.id).next_escalation_at is None
        assert "unreadable definition" in caplog.text
