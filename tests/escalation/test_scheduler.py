"""The scheduler's jobs, heartbeats, /health, the CLI, and the embedded background scheduler."""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from crisis import create_app
from crisis.escalation import scheduler as scheduling
from crisis.escalation.models import SchedulerHeartbeat, StepEscalation
from crisis.extensions import db
from crisis.health import SWEEP_JOB
from tests.support.builders import incident, playbook_version, step


@pytest.fixture
def overdue_step(app, crew, person, clock):
    """One step that fell due an hour ago (levels 1-3 all due) and was never swept."""
    with app.app_context():
        row = step(incident(playbook_version()), owner=person(crew["owner"]))
        db.session.commit()
        step_id = row.id
    clock.advance(minutes=75)
    return step_id


def levels_fired(app, step_id):
    with app.app_context():
        return sorted(db.session.scalars(select(StepEscalation.level).where(StepEscalation.step_id == step_id)))


def has_heartbeat(app) -> bool:
    with app.app_context():
        return db.session.get(SchedulerHeartbeat, SWEEP_JOB) is not None


def test_health_is_unhealthy_until_the_first_sweep(client, make_person, login):
    make_person("admin@example.com", permissions=("admin",))
    login("admin@example.com")
    response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy" and body["database"] == "ok"
    assert body["scheduler"] == {"last_sweep_at": None, "status": "never swept"}


def test_health_follows_the_sweep_heartbeat(app, client, clock, make_person, api_client):
    # The scheduler's details (last sweep time, process) are an admin's: ask with an admin token.
    make_person("admin@example.com", permissions=("admin",))
    client = api_client("admin@example.com")
    app.config["SWEEP_SECONDS"] = 5
    scheduling.sweep_job(app)
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["scheduler"]["status"] == "ok"
    assert body["scheduler"]["last_sweep_at"] == clock.current.isoformat()
    assert body["scheduler"]["process"] == scheduling.process_label()
    clock.advance(seconds=15)
    assert client.get("/health").status_code == 200, "three intervals is still fine"
    clock.advance(seconds=1)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["scheduler"]["status"] == "stale"
    scheduling.sweep_job(app)
    assert client.get("/health").status_code == 200


def test_sweep_job_escalates_and_delivery_job_beats(app, overdue_step, clock):
    scheduling.sweep_job(app)
    scheduling.delivery_job(app)
    assert levels_fired(app, overdue_step) == [1, 2, 3]
    with app.app_context():
        beats = {b.job: b.last_completed_at for b in db.session.scalars(select(SchedulerHeartbeat))}
    assert beats == {SWEEP_JOB: clock.current, scheduling.DELIVERY_JOB: clock.current}


def test_heartbeat_is_one_row_per_job_whoever_writes_it(app, clock):
    for _ in range(3):
        scheduling.sweep_job(app)
        clock.advance(seconds=1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 1


def test_scheduler_once_cli(app, runner, overdue_step):
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "one sweep and one delivery round done" in result.output
    assert levels_fired(app, overdue_step) == [1, 2, 3]


def test_escalation_sweep_and_deliver_cli(app, runner, overdue_step):
    result = runner.invoke(args=["escalation", "sweep"])
    assert result.exit_code == 0 and "escalated 3 step level(s)" in result.output
    result = runner.invoke(args=["escalation", "sweep"])
    assert "escalated 0 step level(s)" in result.output
    result = runner.invoke(args=["escalation", "deliver"])
    # The test config points SMTP at a closed port: the emails wait for a retry.
    assert result.exit_code == 0 and "retrying" in result.output


def test_jobs_are_configured_for_a_single_short_run_each(app):
    app.config.update(SWEEP_SECONDS=1.0, OUTBOX_SECONDS=5.0)
    sched = scheduling.configure(BackgroundScheduler(jobstores={"default": MemoryJobStore()}), app)
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == {SWEEP_JOB, scheduling.DELIVERY_JOB, scheduling.POLL_JOB, scheduling.READINESS_JOB,
                         scheduling.REMINDERS_JOB}
    sweep = jobs[SWEEP_JOB]
    assert (sweep.coalesce, sweep.max_instances, sweep.misfire_grace_time) == (True, 1, 1)
    assert sweep.trigger.interval == timedelta(seconds=1)
    assert jobs[scheduling.DELIVERY_JOB].trigger.interval == timedelta(seconds=5)
    assert jobs[scheduling.DELIVERY_JOB].misfire_grace_time == 5
    readiness = jobs[scheduling.READINESS_JOB]
    assert (readiness.coalesce, readiness.max_instances, readiness.trigger.interval) == (True, 1, timedelta(seconds=1))
    assert jobs[scheduling.REMINDERS_JOB].trigger.interval == timedelta(seconds=60)


def test_create_app_never_starts_a_scheduler(app_config):
    before = {t.name for t in threading.enumerate()}
    create_app({**app_config, "SCHEDULER": "embedded"})
    started = {t.name for t in threading.enumerate()} - before
    assert not any("APScheduler" in name for name in started)
    assert scheduling._started is None


def test_background_scheduler_catches_up_on_its_first_run(app, overdue_step):
    """Steps that fell due while nothing ran are escalated by the first sweep after start."""
    app.config.update(SWEEP_SECONDS=3600, OUTBOX_SECONDS=3600)
    done = threading.Event()
    failures = []
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    sched = scheduling.start_background_scheduler(app)
    try:
        def listen(event):
            if event.code == EVENT_JOB_ERROR:
                failures.append(event.exception)
            if event.job_id == SWEEP_JOB:
                done.set()

        sched.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        assert scheduling.start_background_scheduler(app) is sched, "started once per process"
        # The first run is due at start and may have finished before we listened: wait for
        # either its event or its effect, whichever shows first.
        deadline = time.monotonic() + 10
        while not (done.is_set() or has_heartbeat(app)) and time.monotonic() < deadline:
            done.wait(0.05)
        assert failures == []
        assert levels_fired(app, overdue_step) == [1, 2, 3]
        with app.app_context():
            assert db.session.get(SchedulerHeartbeat, SWEEP_JOB) is not None
    finally:
        sched.shutdown(wait=True)
        scheduling._started = None
        signal.signal(signal.SIGTERM, previous_sigterm)
