"""The sweep's rows go straight to the courier at commit; the delivery records them; a crash only delays them."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from crisis.escalation import scheduler as scheduling
from crisis.extensions import db
from crisis.notifications import wakeup
from crisis.notifications.delivery import Courier, _Lease, deliver_due
from crisis.notifications.models import Notification


def escalation_rows(app) -> list[Notification]:
    with app.app_context():
        rows = list(db.session.scalars(
            select(Notification).where(Notification.channel == "email", Notification.dedup_key.startswith("escalation:"))
        ))
        db.session.expunge_all()
        return rows


def escalation_mail(smtp_server) -> list[str]:
    return [m["X-Crisis-Idempotency-Key"] for _, _, m in smtp_server.messages
            if m["X-Crisis-Idempotency-Key"].startswith("escalation:")]


@pytest.fixture
def courier(app):
    woken: list[int] = []
    courier = Courier(app.config, on_sent=lambda: woken.append(1))
    courier.woken = woken
    wakeup.add_courier(courier.take)
    yield courier
    wakeup.remove_courier(courier.take)
    courier.close()


def test_the_sweeps_emails_are_sent_at_commit_without_a_delivery_run_and_recorded_once(
    app, team, incident_factory, smtp_server, clock, courier
):
    incident_factory(severity="SEV2")
    clock.advance(minutes=15)
    with app.app_context():
        result = scheduling.sweep_all()
    assert result.escalated
    courier.close()  # waits for the sends under way
    keys = escalation_mail(smtp_server)
    assert keys and len(keys) == len(set(keys)), "sent by the courier alone, each once"
    assert courier.woken, "the courier wakes the delivery to record what it sent"
    rows = escalation_rows(app)
    assert {row.dedup_key for row in rows} == set(keys)
    # Leased to the courier: no other deliverer may take them meanwhile.
    assert all(row.status == "pending" and row.attempts == 1 and row.next_attempt_at > clock() for row in rows)
    with app.app_context():
        recorded = deliver_due(courier=courier)
        again = deliver_due(courier=courier)
    assert recorded.sent >= len(keys) and again.attempted == 0
    assert all(row.status == "sent" and row.attempts == 1 for row in escalation_rows(app))
    assert sorted(escalation_mail(smtp_server)) == sorted(keys), "recording sends nothing again"


def test_rows_handed_to_a_courier_that_died_are_sent_once_when_the_lease_runs_out(
    app, team, incident_factory, smtp_server, clock
):
    lost: list[object] = []
    wakeup.add_courier(lost.extend)  # takes the leases and never sends them, as a crash would
    try:
        incident_factory(severity="SEV2")
        clock.advance(minutes=15)
        with app.app_context():
            assert scheduling.sweep_all().escalated
    finally:
        wakeup.remove_courier(lost.extend)
    assert lost
    with app.app_context():
        deliver_due()
    assert escalation_mail(smtp_server) == [], "still leased to the process that died"
    clock.advance(minutes=2)
    with app.app_context():
        deliver_due()
        deliver_due()
    keys = escalation_mail(smtp_server)
    assert keys and len(keys) == len(set(keys)) == len(lost)
    assert all(row.status == "sent" and row.attempts == 2 for row in escalation_rows(app))


def test_a_sweep_without_a_courier_writes_plain_pending_rows(app, team, incident_factory, clock):
    incident_factory(severity="SEV2")
    clock.advance(minutes=15)
    with app.app_context():
        assert scheduling.sweep_all().escalated
    rows = escalation_rows(app)
    assert rows and all(row.attempts == 0 and row.next_attempt_at <= clock() for row in rows)


def test_a_scheduler_configured_but_not_started_leaves_the_sweeps_rows_to_the_outbox(app):
    before = wakeup.has_courier()
    scheduling.configure(BackgroundScheduler(jobstores={"default": MemoryJobStore()}), app)
    assert wakeup.has_courier() is before is False


def test_a_round_the_sender_process_could_not_take_is_left_to_the_lease(app, courier, caplog):
    unsendable = _Lease(key="escalation:1:1:email:1", attempt=1, channel="email", address="owner@example.com",
                        subject="Overdue", body="Overdue", payload={"not picklable": lambda: None}, webhook=None)
    courier.take([unsendable])
    courier.close()  # waits for the round: it fails on its way to the sender process
    assert courier.done == [] and courier.woken == []
    assert "retried when they run out" in caplog.text


def test_the_sender_process_ends_with_its_scheduler():
    process = subprocess.Popen([sys.executable, "-c", (
        "import os, time\n"
        "from crisis.notifications.delivery import Courier\n"
        "courier = Courier({'SEND_TIMEOUT': 5, 'WEBHOOK_ALLOW_PRIVATE': False}, on_sent=lambda: None)\n"
        "print(*(p.pid for p in courier.pool._processes.values()), flush=True)\n"
        "time.sleep(60)\n"
    )], stdout=subprocess.PIPE, text=True)
    sender = int(process.stdout.readline())
    process.kill()  # as a crash would: no shutdown
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(sender):
        time.sleep(0.1)
    assert not _alive(sender)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
