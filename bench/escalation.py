"""Benchmark the escalation engine on a throw-away database.

    .venv/bin/python bench/escalation.py                      # SQLite file in a temp directory
    .venv/bin/python bench/escalation.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

With a PostgreSQL URL the benchmark creates its own database on that server and drops it at the
end; it never touches the database the URL names. Prints:

1. a sweep's cost with nothing due, at 1,000 / 10,000 / 100,000 open steps (target <= 5 ms, flat);
2. the time to escalate 1,000 due steps in one sweep (target <= 2 s);
3. escalation lag p50/p99, from due time to timeline event, with the default settings
   (CRISIS_SWEEP_SECONDS as configured) and the real background scheduler running.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crisis import create_app  # noqa: E402
from crisis.escalation.engine import run_sweep  # noqa: E402
from crisis.escalation.models import StepEscalation  # noqa: E402
from crisis.escalation.policy import first_escalation_at  # noqa: E402
from crisis.extensions import db  # noqa: E402
from crisis.incidents.models import Incident, IncidentStep  # noqa: E402
from crisis.people.service import create_person  # noqa: E402
from crisis.playbooks.definition import EscalationLevel, EscalationPolicy, Playbook, StepDef  # noqa: E402
from crisis.playbooks.models import PlaybookVersion  # noqa: E402
from crisis.timeline.models import TimelineEvent  # noqa: E402

POLICY = EscalationPolicy(
    levels=(
        EscalationLevel(after=timedelta(0), notify=("owner",), channels=("in_app", "email")),
        EscalationLevel(after=timedelta(minutes=10), notify=("triage_owner", "role_lead"), channels=("in_app", "email")),
        EscalationLevel(after=timedelta(minutes=30), notify=("exec_sponsor",), channels=("email",)),
    ),
    repeat_every=timedelta(minutes=30),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def throwaway_database(url: str | None) -> tuple[str, callable]:
    """Return (URL of an empty database, cleanup function)."""
    if not url or url.startswith("sqlite"):
        directory = tempfile.mkdtemp(prefix="crisis-bench-")
        return f"sqlite:///{directory}/bench.sqlite3", lambda: None
    server = make_url(url)
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    name = f"crisis_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def add_incidents(version_id: int, owner_id: int, count: int, steps_per_incident: int, start: int) -> None:
    """Bulk-insert `count` open incidents with active steps due tomorrow (nothing due now)."""
    now = datetime.now(UTC)
    due = now + timedelta(days=1)
    for chunk in range(0, count, 1000):
        size = min(1000, count - chunk)
        ids = list(
            db.session.scalars(
                insert(Incident).returning(Incident.id, sort_by_parameter_order=True),
                [
                    {
                        "ref": f"INC-BENCH-{start + chunk + n:06d}", "title": "Bench incident", "summary": "",
                        "severity": "SEV2", "status": "responding", "playbook_version_id": version_id,
                        "declared_at": now, "is_drill": False, "triage_answers": {},
                    }
                    for n in range(size)
                ],
            )
        )
        db.session.execute(
            IncidentStep.__table__.insert(),
            [
                {
                    "incident_id": incident_id, "key": f"step-{s}", "title": f"Step {s}",
                    "role": "social-media-manager", "position": s, "owner_id": owner_id, "status": "active",
                    "activated_at": now, "due_at": due, "note": "", "escalation_level": 0,
                    "next_escalation_at": first_escalation_at(POLICY, due),
                }
                for incident_id in ids
                for s in range(steps_per_incident)
            ],
        )
        db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # Autovacuum would analyze within a minute or so; without fresh statistics right after a
        # bulk load the planner may scan the whole table instead of the next_escalation_at index.
        db.session.execute(text("ANALYZE incident_steps"))
        db.session.execute(text("ANALYZE incidents"))
        db.session.commit()


def step_count() -> int:
    return db.session.scalar(select(func.count(IncidentStep.id)))


def idle_sweep_ms(runs: int = 50) -> tuple[float, float]:
    """Median and p95 of a sweep with nothing due, in milliseconds."""
    run_sweep()  # warm caches and compiled statements
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run_sweep()
        times.append((time.perf_counter() - started) * 1000)
        assert result.escalated == 0
    return statistics.median(times), percentile(times, 0.95)


def make_due(count: int, *, when: datetime | None = None, spread: float = 0.0) -> list[int]:
    """Make `count` random steps fall due (now, or spread over `spread` seconds from `when`)."""
    ids = db.session.scalars(select(IncidentStep.id).where(IncidentStep.escalation_level == 0)).all()
    chosen = random.sample(list(ids), count)
    base = when or datetime.now(UTC) - timedelta(seconds=1)
    for step_id in chosen:
        due = base + timedelta(seconds=random.uniform(0, spread))
        db.session.execute(
            update(IncidentStep).where(IncidentStep.id == step_id).values(due_at=due, next_escalation_at=due)
        )
    db.session.commit()
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--steps-per-incident", type=int, default=10)
    parser.add_argument("--lag-steps", type=int, default=200, help="steps falling due during the lag run")
    parser.add_argument("--lag-window", type=float, default=20.0, help="seconds over which they fall due")
    args = parser.parse_args(argv)

    url, cleanup = throwaway_database(args.database_url)
    # Default settings: only the database, a secret and a closed SMTP port (nothing to send to).
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1})
    backend = make_url(url).get_backend_name()
    try:
        with app.app_context():
            db.create_all()
            owner = create_person(email="owner@example.com", name="Owner")
            create_person(email="lead@example.com", name="Lead", roles=["social-media-manager"])
            create_person(email="exec@example.com", name="Exec", roles=["exec-sponsor"])
            playbook = Playbook(
                key="bench", title="Bench", description="", default_severity="SEV2", escalation=POLICY,
                steps=(StepDef(key="step-0", title="Step", guidance="", role="social-media-manager",
                               due=timedelta(minutes=15)),),
            )
            version = PlaybookVersion(key="bench", version=1, title="Bench", content_hash="bench",
                                      definition=playbook.to_dict())
            db.session.add(version)
            db.session.commit()
            print(f"escalation benchmark on {backend} (sweep interval {app.config['SWEEP_SECONDS']} s)")

            print("\n1. sweep with nothing due (median / p95 of 50 sweeps; PostgreSQL tables ANALYZEd after each load)")
            created = 0
            for target_steps in (1_000, 10_000, args.incidents * args.steps_per_incident):
                need = target_steps // args.steps_per_incident - created
                started = time.perf_counter()
                add_incidents(version.id, owner.id, need, args.steps_per_incident, created)
                created += need
                load = time.perf_counter() - started
                median, p95 = idle_sweep_ms()
                print(f"   {step_count():>7,} open steps on {created:>6,} incidents: "
                      f"{median:6.2f} ms / {p95:6.2f} ms   (loaded in {load:.1f} s)")

            print("\n2. escalate 1,000 due steps in one sweep")
            make_due(1000)
            started = time.perf_counter()
            result = run_sweep()
            elapsed = time.perf_counter() - started
            events = db.session.scalar(select(func.count(TimelineEvent.id)).where(TimelineEvent.kind == "step.escalated"))
            print(f"   escalated {result.escalated} in {elapsed * 1000:.0f} ms "
                  f"({result.batches} batches; {events} timeline events)")
            db.session.remove()

        print(f"\n3. lag from due time to timeline event, default settings, {args.lag_steps} steps "
              f"falling due over {args.lag_window:.0f} s, background scheduler running")
        with app.app_context():
            lag_ids = make_due(args.lag_steps, when=datetime.now(UTC) + timedelta(seconds=2), spread=args.lag_window)
            db.session.remove()
        from crisis.escalation.scheduler import start_background_scheduler

        scheduler = start_background_scheduler(app)
        deadline = time.monotonic() + args.lag_window + 60
        try:
            while time.monotonic() < deadline:
                with app.app_context():
                    fired = db.session.scalar(
                        select(func.count(StepEscalation.id)).where(StepEscalation.step_id.in_(lag_ids))
                    )
                    db.session.remove()
                if fired >= len(lag_ids):
                    break
                time.sleep(0.25)
        finally:
            scheduler.shutdown(wait=True)
        with app.app_context():
            rows = db.session.execute(
                select(StepEscalation.due_at, StepEscalation.fired_at).where(
                    StepEscalation.step_id.in_(lag_ids), StepEscalation.level == 1
                )
            ).all()
            lags = [(fired_at - due_at).total_seconds() for due_at, fired_at in rows]
            db.session.remove()
        if len(lags) < len(lag_ids):
            print(f"   only {len(lags)} of {len(lag_ids)} escalated in time")
        print(f"   p50 {percentile(lags, 0.5):.3f} s   p99 {percentile(lags, 0.99):.3f} s   max {max(lags):.3f} s "
              f"({len(lags)} escalations)")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
