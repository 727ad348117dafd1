"""Measure the alert intake in process: repeats, new pending alerts, new incidents.

    .venv/bin/python -m tests.alerts.bench_intake                 # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python -m tests.alerts.bench_intake

Not collected by pytest (no test_ prefix). PostgreSQL: the named database must exist and be
empty; its tables are created and dropped.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from crisis import create_app
from crisis.extensions import db

PAYLOADS = Path(__file__).parent / "payloads"


def _payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def _timed(label: str, count: int, send) -> None:
    durations = []
    for i in range(count):
        started = time.perf_counter()
        response = send(i)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 202), response.get_json()
    durations.sort()
    print(f"{label:<44} n={count:<4} median {statistics.median(durations):6.1f} ms   "
          f"p95 {durations[int(len(durations) * 0.95) - 1]:6.1f} ms")


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SCHEDULER": "off",
                      "ALERT_RATE_LIMIT": 0, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    from crisis.people.service import create_person, create_token
    from crisis.playbooks.service import sync_playbooks

    with app.app_context():
        db.create_all()
        sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
        create_person(email="lead@example.com", name="Lead", permissions=["declare"], roles=["triage-lead"])
        _, secret = create_token(person=create_person(email="monitor@example.com", name="Monitor"),
                                 scope="alerts")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}")
        firing = _payload("alertmanager_firing")
        _timed("Alertmanager: same payload again (dedup)", 200,
               lambda i: client.post("/api/v1/alerts/alertmanager", json=firing, headers=headers))
        chatter = _payload("events_security_chatter")
        _timed("Events API: new alert left pending", 200,
               lambda i: client.post("/api/v1/alerts/events", headers=headers,
                                     json={**chatter, "dedup_key": f"chatter-{i}"}))
        price = _payload("events_trigger")
        _timed("Events API: new alert opening an incident", 100,
               lambda i: client.post("/api/v1/alerts/events", headers=headers,
                                     json={**price, "dedup_key": f"price-{i}"}))
    finally:
        with app.app_context():
            db.session.remove()
            if os.environ.get("BENCH_DATABASE_URL"):
                db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
