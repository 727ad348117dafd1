"""Overdue approvals escalate like overdue steps: approver, then backup and triage owner, then up."""

from __future__ import annotations

from sqlalchemy import select

from crisis.escalation.scheduler import SWEEPS, sweep_all
from crisis.extensions import db
from crisis.incidents.service import get_incident
from crisis.notifications.models import Notification
from crisis.statements.service import sweep_overdue_approvals
from crisis.timeline.service import events_for


def escalations(app, ref: str) -> list[tuple[str, int, list[str]]]:
    with app.app_context():
        return [
            (e.data["role"], e.data["level"], e.data["notified"])
            for e in events_for(get_incident(ref).id, kinds=["statement.escalated"])
        ]


def sweep(app) -> int:
    with app.app_context():
        result = sweep_all()
        return result.extra["sweep_overdue_approvals"]


def recipients(app, channel: str) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.channel == channel, Notification.dedup_key.startswith("statement-approval:"))
            .order_by(Notification.id)
        )
        return [row.recipient.email for row in rows]


def test_the_sweep_is_registered_where_the_scheduler_is_built():
    assert sweep_overdue_approvals in SWEEPS


def test_an_overdue_approval_escalates_each_level_once(app, desk, team, clock, make_person):
    make_person("legal.backup@example.com", permissions=["approve", "view"], roles=["legal:backup"])
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    clock.advance(minutes=29)
    assert sweep(app) == 0
    # SEV2: due after 30 min; level 1 (at due) reminds each approver role's primary.
    clock.advance(minutes=1)
    assert sweep(app) == 2
    assert sweep(app) == 0
    assert escalations(app, desk.ref) == [("legal", 1, [team.legal]), ("marketing", 1, [team.marketing])]
    # Legal answers; only marketing keeps escalating.
    desk.approve(team.legal, sid)
    # Level 2 (due + 10 min) goes to the triage owner and the approver's backups.
    clock.advance(minutes=10)
    assert sweep(app) == 1
    assert escalations(app, desk.ref)[-1] == ("marketing", 2, [team.lead])
    # Level 3 (due + 30 min): the executive sponsor.
    clock.advance(minutes=20)
    assert sweep(app) == 1
    assert escalations(app, desk.ref)[-1] == ("marketing", 3, [team.exec])
    assert sweep(app) == 0
    # The playbook's channels per level: level 3 is email and webhook only.
    assert recipients(app, "in_app") == [team.legal, team.marketing, team.lead]
    assert recipients(app, "email") == [team.legal, team.marketing, team.lead, team.exec]
    assert desk.get(sid)["approvals"][1]["escalation_level"] == 3


def test_the_backup_hears_when_the_approver_is_late(app, desk, team, clock, make_person):
    make_person("legal.backup@example.com", permissions=["approve", "view"], roles=["legal:backup"])
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    desk.approve(team.marketing, sid)
    clock.advance(minutes=40)
    # Catching up after downtime: one sweep fires one level, the next sweep the next.
    assert sweep(app) == 1
    assert sweep(app) == 1
    assert escalations(app, desk.ref) == [
        ("legal", 1, [team.legal]), ("legal", 2, [team.lead, "legal.backup@example.com"])
    ]


def test_deciding_stops_escalation_and_an_edit_starts_a_fresh_round(app, desk, team, clock):
    sid = desk.approved(team)
    clock.advance(hours=2)
    assert sweep(app) == 0
    desk.edit(team.social, sid, body="We're aware and looking into it.")
    clock.advance(minutes=30)
    assert sweep(app) == 2
    # A new round after another edit fires level 1 again with fresh notification keys.
    desk.edit(team.social, sid, body="We're aware and looking into it now.")
    clock.advance(minutes=30)
    assert sweep(app) == 2
    assert [level for _, level, _ in escalations(app, desk.ref)] == [1, 1, 1, 1]
    assert recipients(app, "in_app").count(team.legal) == 2


def test_a_rejected_statement_does_not_escalate(app, desk, team, clock):
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    desk.reject(team.legal, sid, reason="Wrong tone")
    clock.advance(hours=3)
    assert sweep(app) == 0
    assert escalations(app, desk.ref) == []


def test_concurrent_sweeps_fire_each_level_exactly_once(app, desk, team, clock):
    import threading

    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    clock.advance(minutes=45)
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(sweep_overdue_approvals())
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    # Two approvals, each at level 1 (due + 0) and level 2 (due + 10 min) by now: at most one
    # claim per level per approval, whichever sweep won it.
    fired = escalations(app, desk.ref)
    assert sorted((role, level) for role, level, _ in fired) == sorted(set((role, level) for role, level, _ in fired))
    assert sum(results) == len(fired)
    # Whatever the threads left undone, two more sweeps finish; nothing ever fires twice.
    sweep(app)
    sweep(app)
    fired = escalations(app, desk.ref)
    assert sorted((role, level) for role, level, _ in fired) == [("legal", 1), ("legal", 2), ("marketing", 1), ("marketing", 2)]


def test_two_approvers_signing_at_once_leave_the_statement_approved(app, desk, team):
    import threading

    from crisis.incidents.service import get_incident as incident_of
    from crisis.people.service import get_person
    from crisis.statements import service
    from crisis.statements.models import Statement

    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(email: str) -> None:
        try:
            # Start together; SQLite then queues the writers at BEGIN IMMEDIATE, PostgreSQL at the row lock.
            barrier.wait(timeout=10)
            with app.app_context():
                statement = service.get_statement(incident=incident_of(desk.ref), statement_id=sid)
                actor = get_person(email)
                service.approve_statement(statement=statement, actor=actor)
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=approve, args=(email,)) for email in (team.legal, team.marketing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with app.app_context():
        statement = db.session.get(Statement, sid)
        assert statement.status == "approved"
        assert [a.status for a in statement.approvals] == ["approved", "approved"]
