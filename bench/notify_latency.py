"""End to end: from a step's due time to its escalation email accepted by a real SMTP server.

    .venv/bin/python bench/notify_latency.py                  # SQLite, the embedded `python run.py`
    .venv/bin/python bench/notify_latency.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                              # PostgreSQL, gunicorn + `flask scheduler`

An aiosmtpd server on loopback records when it accepts each message. The benchmark makes N
steps (default: 10, then 1,000) fall due at the same whole second, on incidents of a playbook
whose first escalation level emails the owner at once, while the app runs as it would in
production: on SQLite `python run.py` (gunicorn workers, and the scheduler in a child process);
on PostgreSQL gunicorn (scheduler off) and `flask --app crisis scheduler` beside it, both with default settings apart
from the database and the SMTP server. It prints p50/p95/p99/max of (accepted - due) over the
N emails. Target: p99 <= 2 s at 1,000 steps.

With a PostgreSQL URL the benchmark creates its own database on that server and drops it at
the end; it never touches the database the URL names.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiosmtpd.controller import Controller  # noqa: E402
from escalation import percentile, throwaway_database  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crisis import create_app  # noqa: E402
from crisis.bootstrap import prepare_database  # noqa: E402
from crisis.extensions import db  # noqa: E402
from crisis.incidents.models import Incident, IncidentStep  # noqa: E402
from crisis.people.service import create_person  # noqa: E402
from crisis.playbooks.definition import EscalationLevel, EscalationPolicy, Playbook, StepDef  # noqa: E402
from crisis.playbooks.models import PlaybookVersion  # noqa: E402

POLICY = EscalationPolicy(
    levels=(EscalationLevel(after=timedelta(0), notify=("owner",), channels=("email",)),),
)


class Arrivals:
    """aiosmtpd handler: when each escalation email was accepted, by its idempotency key."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        now = time.time()
        for line in envelope.original_content.split(b"\r\n"):
            if line.lower().startswith(b"x-crisis-idempotency-key:"):
                with self.lock:
                    self.at.setdefault(line.split(b":", 1)[1].strip().decode(), now)
                break
        return "250 accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(base: str, processes: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a server process exited during start-up")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the app did not come up in time")


def add_due_steps(version_id: int, owner_id: int, count: int, due: datetime, start: int) -> list[int]:
    """Insert `count` incidents with one active step each, all due (and escalating) at `due`."""
    ids = list(db.session.scalars(
        insert(Incident).returning(Incident.id, sort_by_parameter_order=True),
        [{"ref": f"INC-LAT-{start + n:06d}", "title": "Latency incident", "summary": "", "severity": "SEV2",
          "status": "responding", "playbook_version_id": version_id, "declared_at": due - timedelta(minutes=15),
          "is_drill": False, "triage_answers": {}} for n in range(count)],
    ))
    step_ids = list(db.session.scalars(
        insert(IncidentStep).returning(IncidentStep.id, sort_by_parameter_order=True),
        [{"incident_id": incident_id, "key": "respond", "title": "Respond", "role": "social-media-manager",
          "position": 0, "owner_id": owner_id, "status": "active", "activated_at": due - timedelta(minutes=15),
          "due_at": due, "note": "", "escalation_level": 0, "next_escalation_at": due, "applicability": "applies"}
         for incident_id in ids],
    ))
    db.session.commit()
    return step_ids


def start_servers(url: str, smtp_port: int, web_port: int, workdir: str) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-notify", "CRISIS_SMTP_HOST": "127.0.0.1",
           "CRISIS_SMTP_PORT": str(smtp_port), "CRISIS_BASE_URL": f"http://127.0.0.1:{web_port}",
           "CRISIS_SEED_DEMO": "0"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": open(Path(workdir) / "servers.log", "w")}  # noqa: SIM115
    if url.startswith("sqlite"):
        return [subprocess.Popen([sys.executable, "run.py", "--port", str(web_port)], cwd=ROOT, env=env, **quiet)]
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{web_port}", "--workers", "2",
         "crisis:create_app()"], cwd=ROOT, env={**env, "CRISIS_SCHEDULER": "off"}, **quiet,
    )
    scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "crisis", "scheduler"], cwd=ROOT,
                                 env={**env, "CRISIS_SCHEDULER": "off"}, **quiet)
    return [web, scheduler]


def run(count: int, app, version_id: int, owner_id: int, arrivals: Arrivals, start: int) -> list[float]:
    """Make `count` steps due at the next whole second (+3 s); return each email's latency in seconds."""
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    with app.app_context():
        step_ids = add_due_steps(version_id, owner_id, count, due, start)
        db.session.remove()
    keys = {f"escalation:{step_id}:1:email:{owner_id}": step_id for step_id in step_ids}
    deadline = time.monotonic() + 60 + count / 10
    while time.monotonic() < deadline:
        with arrivals.lock:
            if all(key in arrivals.at for key in keys):
                break
        time.sleep(0.05)
    with arrivals.lock:
        latencies = [arrivals.at[key] - due.timestamp() for key in keys if key in arrivals.at]
    if len(latencies) < count:
        print(f"   only {len(latencies)} of {count} emails arrived in time")
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--counts", default="10,1000", help="steps falling due at the same second, per run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per count")
    args = parser.parse_args(argv)

    url, cleanup = throwaway_database(args.database_url)
    workdir = tempfile.mkdtemp(prefix="crisis-notify-bench-")
    arrivals = Arrivals()
    smtp_port, web_port = free_port(), free_port()
    controller = Controller(arrivals, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-notify"})
    backend = make_url(url).get_backend_name()
    processes: list[subprocess.Popen] = []
    try:
        prepare_database(app, seed=False)
        with app.app_context():
            owner = create_person(email="owner@example.com", name="Owner", roles=["social-media-manager"])
            playbook = Playbook(
                key="latency", title="Latency", description="", default_severity="SEV2", escalation=POLICY,
                steps=(StepDef(key="respond", title="Respond", guidance="", role="social-media-manager",
                               due=timedelta(minutes=15)),),
            )
            version = PlaybookVersion(key="latency", version=1, title="Latency", content_hash="latency",
                                      definition=playbook.to_dict())
            db.session.add(version)
            db.session.commit()
            version_id, owner_id = version.id, owner.id
            db.session.remove()
        processes = start_servers(url, smtp_port, web_port, workdir)
        wait_for_health(f"http://127.0.0.1:{web_port}", processes)
        topology = "python run.py" if backend == "sqlite" else "gunicorn (2 workers) + flask scheduler"
        print(f"notification latency on {backend}, {topology}; due time -> email accepted by SMTP on loopback")
        made = 0
        for count in (int(c) for c in args.counts.split(",")):
            for _ in range(args.repeat):
                latencies = run(count, app, version_id, owner_id, arrivals, made)
                made += count
                if latencies:
                    print(f"   {count:>5} steps due at one second: p50 {percentile(latencies, 0.5):.3f} s   "
                          f"p95 {percentile(latencies, 0.95):.3f} s   p99 {percentile(latencies, 0.99):.3f} s   "
                          f"max {max(latencies):.3f} s")
                time.sleep(1)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        controller.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
