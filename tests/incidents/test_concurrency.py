"""Races on a real database (a file SQLite, or PostgreSQL): each thread has its own app context and session."""

from __future__ import annotations

import threading
from collections.abc import Callable

from crisis.errors import Conflict
from crisis.extensions import db
from crisis.incidents import service
from crisis.people.service import get_person
from tests.support.incidents import kinds, step_state

TIMEOUT = 30


def run_together(app, count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)
    results: list[object] = [None] * count

    def worker(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[index] = work(index)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
                db.session.rollback()
                results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_two_simultaneous_completes_one_wins_one_conflicts_one_event(app, team, incident_factory):
    ref = incident_factory()

    def complete(index: int) -> str:
        incident = service.get_incident(ref)
        step = service.complete_step(
            incident=incident, step_key="gather-facts", actor=get_person(team.lead), note=f"thread {index}"
        )
        return step.status

    results = run_together(app, 2, complete)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"], results
    winner = next(r for r in results if not isinstance(r, Exception))
    loser = next(r for r in results if isinstance(r, Conflict))
    assert winner == "done"
    assert "already" in loser.message
    assert kinds(app, ref).count("step.completed") == 1
    # The dependent started exactly once too.
    assert kinds(app, ref).count("step.activated") == 3
    assert step_state(app, ref, "assess-and-classify")["status"] == "active"


def test_two_dependencies_finishing_at_once_start_their_dependent(app, team, incident_factory):
    ref = incident_factory(severity="SEV3", triage_answers={"author": "troll"})
    lead = team.lead
    for key in ("gather-facts", "assess-and-classify", "notify-stakeholders", "monitor-only"):
        with app.app_context():
            service.complete_step(incident=service.get_incident(ref), step_key=key, actor=get_person(lead))
            db.session.commit()
    # resolve waits for monitor-and-moderate and holding-statement; finish both at the same moment.
    owners = {"monitor-and-moderate": team.social, "holding-statement": team.spokes}
    keys = list(owners)

    def complete(index: int) -> str:
        # Only publishing completes the holding statement; the triage owner skips it instead.
        key = keys[index]
        if key == "holding-statement":
            return service.skip_step(
                incident=service.get_incident(ref), step_key=key, actor=get_person(lead), reason="Answered by phone"
            ).status
        return service.complete_step(
            incident=service.get_incident(ref), step_key=key, actor=get_person(owners[key])
        ).status

    assert run_together(app, 2, complete) == ["done", "skipped"]
    assert step_state(app, ref, "resolve")["status"] == "active"
    activated = [k for k in kinds(app, ref) if k == "step.activated"]
    assert len(activated) == 7  # gather, holding, assess, notify, monitor-only, monitor-and-moderate, resolve


def test_simultaneous_declarations_get_unique_sequential_references(app, team, synced):
    count = 8

    def declare(index: int) -> str:
        return service.declare_incident(
            playbook_key="wrong-price", title=f"Wrong price {index}", severity="SEV3",
            declared_by=get_person(team.lead),
        ).ref

    refs = run_together(app, count, declare)
    assert all(isinstance(r, str) for r in refs), refs
    assert sorted(refs) == [f"INC-2026-{n:04d}" for n in range(1, count + 1)]
