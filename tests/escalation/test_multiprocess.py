"""Real scheduler processes on one database: exactly once with four of them, and after SIGKILL.

The processes run `flask --app crisis scheduler` on the real clock, so the steps are made
overdue relative to real time (the frozen `clock` fixture only affects this test process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crisis.escalation.models import SchedulerHeartbeat, StepEscalation
from crisis.extensions import db
from crisis.health import SWEEP_JOB
from crisis.incidents.models import IncidentStep
from crisis.notifications.models import Notification
from crisis.timeline.models import TimelineEvent
from tests.support.builders import bulk_steps, playbook_version

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STEPS = 2000
LEVELS = 3  # the default test policy: owner at 0, lead at 10 min, exec at 30 min; no repeat
# Per step: level 1 owner in_app + email, level 2 role lead in_app + email, level 3 exec email
# and in-app (the executive level always reaches executives in the app).
OUTBOX_PER_STEP = 6


@pytest.fixture
def backlog(app, crew, person, database_url, request):
    """Active steps (2,000 unless the test says otherwise) on incidents of 10, all due an hour ago by the real clock."""
    steps = getattr(request, "param", STEPS)
    with app.app_context():
        version = playbook_version()
        bulk_steps(
            version, incidents=steps // 10, steps_per_incident=10,
            due_at=datetime.now(UTC) - timedelta(hours=1), owner_id=person(crew["owner"]).id,
        )
        db.session.commit()
        db.session.remove()
    return database_url


def start_scheduler(database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "multiprocess-test",
        "CRISIS_SWEEP_SECONDS": "0.2",
        "CRISIS_OUTBOX_SECONDS": "3600",
        "CRISIS_SMTP_HOST": "127.0.0.1",
        "CRISIS_SMTP_PORT": "1",
        "CRISIS_SEND_TIMEOUT": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "crisis", "scheduler"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def count(app, query) -> int:
    """Read one number in its own short transaction (never hold one open while others sweep)."""
    with app.app_context():
        try:
            return db.session.scalar(query) or 0
        finally:
            db.session.remove()


def escalation_count(app) -> int:
    return count(app, select(func.count(StepEscalation.id)))


def wait_for(condition, *, timeout: float, processes) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"scheduler exited early ({process.returncode}):\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the schedulers")
        time.sleep(0.05)


def wait_for_more_sweeps(app, processes) -> None:
    """Wait until a sweep that started after now has completed (heartbeats use the real clock)."""
    after = datetime.now(UTC) + timedelta(seconds=0.5)
    wait_for(
        lambda: count(app, select(SchedulerHeartbeat.last_completed_at).where(SchedulerHeartbeat.job == SWEEP_JOB))
        not in (0, None) and count(app, select(SchedulerHeartbeat.last_completed_at)
                                   .where(SchedulerHeartbeat.job == SWEEP_JOB)) > after,
        timeout=30, processes=processes,
    )


def stop(processes) -> list[str]:
    """SIGTERM (or SIGINT, every other one) each scheduler, expect a clean exit, return their output."""
    outputs = []
    for number, process in enumerate(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGINT if number % 2 else signal.SIGTERM)
    for process in processes:
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, out
        assert "scheduler: stopped" in out, out
        outputs.append(out)
    return outputs


def assert_exactly_once(app, steps: int = STEPS) -> None:
    total = steps * LEVELS
    assert escalation_count(app) == total
    assert count(app, select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "step.escalated")) == total
    with app.app_context():
        fired = db.session.execute(
            select(TimelineEvent.incident_id, TimelineEvent.data).where(TimelineEvent.kind == "step.escalated")
        ).all()
        assert len({(incident_id, data["step"], data["level"]) for incident_id, data in fired}) == total
        keys = db.session.scalars(select(Notification.dedup_key)).all()
        assert len(keys) == len(set(keys)) == steps * OUTBOX_PER_STEP
        levels = db.session.execute(
            select(IncidentStep.escalation_level, func.count()).group_by(IncidentStep.escalation_level)
        ).all()
        assert levels == [(LEVELS, steps)]
        assert db.session.scalar(select(func.count()).where(IncidentStep.next_escalation_at.is_not(None))) == 0
        db.session.remove()


def test_four_schedulers_fire_every_level_exactly_once(app, backlog):
    processes = [start_scheduler(backlog) for _ in range(4)]
    try:
        wait_for(lambda: escalation_count(app) >= STEPS * LEVELS, timeout=120, processes=processes)
        # More sweeps run over the finished backlog: they must find nothing to do.
        wait_for_more_sweeps(app, processes)
    finally:
        outputs = stop(processes)
    assert_exactly_once(app)
    assert sum("escalated" in out for out in outputs) >= 1


CRASH_STEPS = 1000


@pytest.mark.parametrize("backlog", [CRASH_STEPS], indirect=True)
def test_a_scheduler_killed_mid_sweep_loses_nothing_and_doubles_nothing(app, backlog):
    first = start_scheduler(backlog)
    try:
        wait_for(lambda: escalation_count(app) >= 200, timeout=60, processes=[first])
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    at_kill = escalation_count(app)
    assert 0 < at_kill < CRASH_STEPS * LEVELS, "killed while work remained"
    # Downtime: nothing sweeps now. The next scheduler catches up on everything.
    second = start_scheduler(backlog)
    try:
        wait_for(lambda: escalation_count(app) >= CRASH_STEPS * LEVELS, timeout=120, processes=[second])
        wait_for_more_sweeps(app, [second])
    finally:
        stop([second])
    assert_exactly_once(app, CRASH_STEPS)


def test_run_py_serves_with_workers_and_a_scheduler_process_and_stops_cleanly(tmp_path):
    """`python run.py`: gunicorn workers serve, the scheduler sweeps in a process of its own; SIGTERM exits 0."""
    import json
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}", "SECRET_KEY": "run-test",
           "CRISIS_SCHEDULER": "embedded", "CRISIS_SMTP_HOST": "127.0.0.1", "CRISIS_SMTP_PORT": "1"}
    process = subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    health = None

    def healthy() -> bool:
        nonlocal health
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                health = json.loads(response.read())
                return response.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def admin_token() -> str:
        # The scheduler's process is an admin's detail: /health shows it only to an admin token.
        flask = [sys.executable, "-m", "flask", "--app", "crisis"]
        subprocess.run([*flask, "users", "create", "ops@example.com", "--name", "Ops", "--permission", "admin"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        created = subprocess.run([*flask, "tokens", "create", "ops@example.com"], cwd=ROOT, env=env, check=True,
                                 capture_output=True, text=True)
        return created.stdout.strip().splitlines()[-1]

    try:
        wait_for(healthy, timeout=60, processes=[process])
        asked = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"Authorization": f"Bearer {admin_token()}"})
        with urllib.request.urlopen(asked, timeout=5) as response:
            health = json.loads(response.read())
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert health["scheduler"]["status"] == "ok" and health["database"] == "ok"
    # The scheduler is a child of run.py, not run.py itself and not a web worker.
    assert not health["scheduler"]["process"].endswith(f":{process.pid}")
    assert "scheduler: escalation sweep and outbox delivery running in a process of their own" in out
    assert out.count("Booting worker with pid") >= 2, out
    assert "scheduler: stopped" in out
    assert process.returncode == 0, out
