"""APScheduler wiring: the escalation sweep and the outbox delivery as two short interval jobs.

APScheduler only decides *when* to call; every bit of escalation state lives in our tables,
so the job store is in memory and a restart loses nothing. Started by `python run.py`
(BackgroundScheduler, serving process only) or `flask --app crisis scheduler`
(BlockingScheduler, production); never by create_app, so gunicorn workers never run one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError

from crisis import clock
from crisis.escalation.engine import run_sweep
from crisis.escalation.models import SWEEP_JOB, SchedulerHeartbeat
from crisis.extensions import db
from crisis.notifications.delivery import deliver_due
from crisis.notifications.webhooks import sync_config_webhooks

log = logging.getLogger(__name__)

DELIVERY_JOB = "outbox-delivery"
_started: BaseScheduler | None = None
_lock = threading.Lock()


def process_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(job: str) -> None:
    """Record that `job` just completed (upsert; two schedulers may race on the first insert)."""
    now = clock.now()
    label = process_label()
    changed = db.session.execute(
        update(SchedulerHeartbeat)
        .where(SchedulerHeartbeat.job == job)
        .values(last_completed_at=now, process=label)
    ).rowcount
    if changed == 0:
        db.session.add(SchedulerHeartbeat(job=job, last_completed_at=now, process=label))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        db.session.execute(
            update(SchedulerHeartbeat).where(SchedulerHeartbeat.job == job).values(last_completed_at=now, process=label)
        )
        db.session.commit()


def sweep_job(app: Flask) -> None:
    """Run one escalation sweep and record the heartbeat /health reads."""
    with app.app_context():
        try:
            result = run_sweep()
            if result.escalated or result.stopped:
                log.info("sweep: escalated %d, stopped %d in %.3fs", result.escalated, result.stopped, result.seconds)
            beat(SWEEP_JOB)
        except OperationalError:
            db.session.rollback()
            log.exception("escalation sweep failed; the next tick retries")
        finally:
            db.session.remove()


def delivery_job(app: Flask) -> None:
    """Deliver what is due in the outbox and record the heartbeat."""
    with app.app_context():
        try:
            result = deliver_due()
            if result.attempted:
                log.info("outbox: sent %d, retrying %d, failed %d", result.sent, result.retrying, result.failed)
            beat(DELIVERY_JOB)
        except OperationalError:
            db.session.rollback()
            log.exception("outbox delivery failed; the next tick retries")
        finally:
            db.session.remove()


def sync_settings(app: Flask) -> None:
    """Turn CRISIS_WEBHOOK_URLS into webhook rows before the first delivery."""
    with app.app_context():
        try:
            sync_config_webhooks(
                urls=app.config.get("WEBHOOK_URLS") or "", secret=app.config.get("WEBHOOK_SECRET") or "",
                allow_private=bool(app.config["WEBHOOK_ALLOW_PRIVATE"]),
            )
            db.session.commit()
        except OperationalError:
            db.session.rollback()
            log.exception("could not sync CRISIS_WEBHOOK_URLS; the webhooks table is unchanged")
        finally:
            db.session.remove()


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    """Add the two jobs, each due at once (catch up after downtime) and then every interval."""
    sync_settings(app)
    sweep_seconds = float(app.config["SWEEP_SECONDS"])
    outbox_seconds = float(app.config["OUTBOX_SECONDS"])
    start = datetime.now(UTC)
    scheduler.add_job(
        sweep_job, "interval", seconds=sweep_seconds, args=[app], id=SWEEP_JOB, name="escalation sweep",
        coalesce=True, max_instances=1, misfire_grace_time=max(1, round(sweep_seconds)), next_run_time=start,
        replace_existing=True,
    )
    scheduler.add_job(
        delivery_job, "interval", seconds=outbox_seconds, args=[app], id=DELIVERY_JOB, name="outbox delivery",
        coalesce=True, max_instances=1, misfire_grace_time=max(1, round(outbox_seconds)), next_run_time=start,
        replace_existing=True,
    )
    return scheduler


def _options() -> dict[str, Any]:
    # One worker per job: a slow delivery never delays a sweep.
    return {
        "jobstores": {"default": MemoryJobStore()},
        "executors": {"default": ThreadPoolExecutor(2)},
        "timezone": UTC,
    }


def start_background_scheduler(app: Flask) -> BackgroundScheduler:
    """Start the jobs in a background thread of this process (once; later calls return it)."""
    global _started
    with _lock:
        if _started is not None and _started.state != STATE_STOPPED:
            return _started  # type: ignore[return-value]
        scheduler = configure(BackgroundScheduler(**_options()), app)
        scheduler.start()
        _started = scheduler
    import atexit

    atexit.register(_shutdown_quietly, scheduler)
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        # SIGTERM would end the process on the spot; exit normally instead, so the web server
        # stops and atexit lets the running job finish (Ctrl-C already ends that way).
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    return scheduler


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _shutdown_quietly(scheduler: BaseScheduler) -> None:
    if scheduler.state != STATE_STOPPED:
        scheduler.shutdown(wait=True)


def run_blocking_scheduler(app: Flask) -> None:
    """Run the jobs in the foreground until SIGTERM or SIGINT, then finish the running job and exit."""
    scheduler = configure(BlockingScheduler(**_options()), app)

    def stop(signum: int, frame: Any) -> None:
        log.info("scheduler: %s received, finishing the running jobs", signal.Signals(signum).name)
        # shutdown() from the main thread's handler would wait on itself; let a thread do it.
        threading.Thread(target=_shutdown_quietly, args=(scheduler,), daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
