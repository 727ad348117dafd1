"""Prompt delivery: committed outbox rows wake the delivery job; rows from elsewhere are found by the poll."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from sqlalchemy import insert

from crisis import clock as crisis_clock
from crisis.escalation import scheduler as scheduling
from crisis.escalation.models import SchedulerHeartbeat
from crisis.extensions import db
from crisis.notifications import wakeup
from crisis.notifications.models import Notification
from crisis.notifications.service import notify
from crisis.people.service import get_person


@pytest.fixture
def calls():
    seen: list[int] = []

    def callback() -> None:
        seen.append(1)

    wakeup.listen(callback)
    yield seen
    wakeup.forget(callback)


def test_a_commit_with_rows_to_deliver_wakes_the_listeners_once(app, make_person, calls):
    make_person("ana@example.com")
    with app.app_context():
        notify(recipients=[get_person("ana@example.com")], subject="Hi", body="B", incident=None, dedup_key="w1",
               channels=("email",))
        assert calls == []
        db.session.commit()
        assert calls == [1]
        db.session.commit()
        assert calls == [1], "a later commit without outbox rows wakes nobody"


def test_a_rollback_or_in_app_only_rows_wake_nobody(app, make_person, calls):
    make_person("ana@example.com")
    with app.app_context():
        notify(recipients=[get_person("ana@example.com")], subject="Hi", body="B", incident=None, dedup_key="w2",
               channels=("email",))
        db.session.rollback()
        notify(recipients=[get_person("ana@example.com")], subject="Hi", body="B", incident=None, dedup_key="w3",
               channels=("in_app",))
        db.session.commit()
    assert calls == []


def test_due_soon_sees_pending_rows_only(app, make_person):
    make_person("ana@example.com")
    with app.app_context():
        assert wakeup.due_soon(db.session(), crisis_clock.now()) is False
        notify(recipients=[get_person("ana@example.com")], subject="Hi", body="B", incident=None, dedup_key="w4",
               channels=("in_app",))
        db.session.commit()
        assert wakeup.due_soon(db.session(), crisis_clock.now()) is False
        notify(recipients=[get_person("ana@example.com")], subject="Hi", body="B", incident=None, dedup_key="w5",
               channels=("email",))
        db.session.commit()
        assert wakeup.due_soon(db.session(), crisis_clock.now()) is True


def wait_for(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("poll", [0, 0.2], ids=["wake", "poll"])
def test_an_email_goes_out_long_before_the_next_delivery_tick(app, make_person, smtp_server, poll):
    """The delivery tick is an hour: only a wake-up (same process) or the poll (rows from elsewhere) sends it."""
    make_person("ana@example.com")
    app.config.update(SWEEP_SECONDS=3600, OUTBOX_SECONDS=3600, OUTBOX_POLL_SECONDS=poll)
    first_delivery = threading.Event()
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    sched = scheduling.start_background_scheduler(app)
    try:
        sched.add_listener(lambda e: e.job_id == scheduling.DELIVERY_JOB and first_delivery.set(), EVENT_JOB_EXECUTED)
        # Past the delivery run every scheduler makes at start.
        assert wait_for(lambda: first_delivery.is_set() or _beat(app))
        with app.app_context():
            if poll:
                # As another process would: rows committed without this process's wake-up.
                row = {
                    "channel": "email", "recipient_id": get_person("ana@example.com").id,
                    "address": "ana@example.com", "subject": "From elsewhere", "body": "B",
                    "dedup_key": "elsewhere:email:1", "status": "pending", "attempts": 0,
                    "next_attempt_at": crisis_clock.now(), "created_at": crisis_clock.now(), "payload": {},
                    "last_error": "",
                }
                db.session.execute(insert(Notification), [row])
            else:
                notify(recipients=[get_person("ana@example.com")], subject="From here", body="B", incident=None,
                       dedup_key="here", channels=("email",))
            db.session.commit()
        assert wait_for(lambda: len(smtp_server.messages) == 1)
    finally:
        sched.shutdown(wait=True)
        scheduling._started = None
        signal.signal(signal.SIGTERM, previous_sigterm)


def _beat(app) -> bool:
    with app.app_context():
        found = db.session.get(SchedulerHeartbeat, scheduling.DELIVERY_JOB) is not None
        db.session.remove()
        return found
