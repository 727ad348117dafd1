"""APScheduler wiring: the escalation sweep and the outbox delivery as two short interval jobs.

APScheduler only decides *when* to call; every bit of escalation state lives in our tables,
so the job store is in memory and a restart loses nothing. Started by `python run.py`
(BackgroundScheduler, serving process only) or `flask --app crisis scheduler`
(BlockingScheduler, production); never by create_app, so gunicorn workers never run one.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, EVENT_SCHEDULER_START
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError

from crisis import clock
from crisis.db.engine import reading
from crisis.escalation.engine import next_due, run_sweep
from crisis.escalation.models import SWEEP_JOB, SchedulerHeartbeat
from crisis.extensions import db
from crisis.notifications import wakeup
from crisis.notifications.delivery import Courier, DeliveryResult, deliver_due
from crisis.notifications.reminders import send_reminders
from crisis.notifications.webhooks import sync_config_webhooks
from crisis.readiness.sweep import run_readiness_sweep
from crisis.statements.service import sweep_overdue_approvals

log = logging.getLogger(__name__)

DELIVERY_JOB = "outbox-delivery"
POLL_JOB = "outbox-poll"
# What each tick runs after the step sweep: overdue approvals, then reminders before steps fall due.
SWEEPS = (sweep_overdue_approvals, send_reminders)
READINESS_JOB = "readiness-sweep"
REMINDERS_JOB = "readiness-reminders"
REMINDER_SECONDS = 60.0
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


def sweep_job(app: Flask, waker: _Waker | None = None) -> None:
    """Run one escalation sweep and record the heartbeat /health reads.

    Then, when the next step falls due before the next tick, run again at that moment rather
    than up to a tick later (the tick still catches everything written meanwhile).
    """
    with app.app_context():
        try:
            result = run_sweep(extra=SWEEPS)
            if result.escalated or result.stopped:
                log.info("sweep: escalated %d, stopped %d in %.3fs", result.escalated, result.stopped, result.seconds)
            beat(SWEEP_JOB)
            if waker is not None:
                _run_again_when_due(waker)
        except OperationalError:
            db.session.rollback()
            log.exception("escalation sweep failed; the next tick retries")
        finally:
            db.session.remove()


def _run_again_when_due(waker: _Waker) -> None:
    if waker.scheduler.state == STATE_STOPPED:
        return
    with reading():
        due = next_due()
    db.session.rollback()
    # Only a level still ahead: something already due that this sweep left (a lost claim, the
    # batch bound) waits for the tick rather than spinning the sweep.
    wait = (due - clock.now()).total_seconds() if due is not None else 0
    if wait > 0:
        waker.sweep_at(datetime.now(UTC) + timedelta(seconds=wait))


class _Waker:
    """Move the delivery (or the sweep) job's next run earlier, from a thread of its own.

    Job threads never call the scheduler themselves: APScheduler's shutdown holds its job-store
    lock while it waits for running jobs, so a job asking the scheduler for anything then would
    wait for ever. They set an event instead; a daemon thread does the asking (and, being a
    daemon, never holds up an exit). A wake-up while the delivery runs only asks it to go round
    once more (APScheduler would skip a second instance), so rows committed just as it finished
    are not left for the next tick.
    """

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self.lock = threading.Lock()
        self.running = False
        self.again = False
        self.deliver = False
        self.sweep: datetime | None = None
        self.event = threading.Event()
        self.thread: threading.Thread | None = None
        self.courier: Courier | None = None

    def __call__(self) -> None:
        with self.lock:
            if self.running:
                self.again = True
                return
            self.deliver = True
        self._kick()

    def sweep_at(self, at: datetime) -> None:
        with self.lock:
            self.sweep = at if self.sweep is None else min(self.sweep, at)
        self._kick()

    def _kick(self) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="crisis-waker", daemon=True)
                self.thread.start()
        self.event.set()

    def _loop(self) -> None:
        while True:
            self.event.wait()
            self.event.clear()
            if self.scheduler.state == STATE_STOPPED:
                return
            with self.lock:
                deliver, self.deliver = self.deliver, False
                sweep, self.sweep = self.sweep, None
            try:
                if deliver:
                    self.scheduler.modify_job(DELIVERY_JOB, next_run_time=datetime.now(UTC))
                job = self.scheduler.get_job(SWEEP_JOB) if sweep is not None else None
                if job is not None and job.next_run_time is not None and sweep < job.next_run_time:
                    self.scheduler.modify_job(SWEEP_JOB, next_run_time=sweep)
            except Exception:  # noqa: BLE001 - an early run is an optimisation; the ticks still run
                log.debug("could not move a job's next run", exc_info=True)

    def stop(self, app: Flask | None = None) -> None:
        """Stop listening for commits, let the waker thread end and the courier finish its sends."""
        wakeup.forget(self)
        self.event.set()
        courier, self.courier = self.courier, None
        if courier is None:
            return
        wakeup.remove_courier(courier.take)
        courier.close()
        if app is None:
            return
        with app.app_context():
            try:
                courier.settle(DeliveryResult())
            except OperationalError:
                log.exception("could not record the last sends; their leases run out and they are sent again")
            finally:
                db.session.remove()

    def start(self) -> None:
        with self.lock:
            self.running, self.again = True, False

    def finish(self) -> bool:
        """Return True when a wake-up came during the run (go round again), else mark it ended."""
        with self.lock:
            if self.again:
                self.again = False
                return True
            self.running = False
            return False


def delivery_job(app: Flask, waker: _Waker | None = None) -> None:
    """Deliver what is due in the outbox (again while wake-ups arrive) and record the heartbeat."""
    with app.app_context():
        try:
            if waker:
                waker.start()
            running = (lambda: waker.scheduler.state != STATE_STOPPED) if waker else (lambda: True)
            while True:
                result = deliver_due(keep_going=running, courier=waker.courier if waker else None)
                if result.attempted:
                    log.info("outbox: sent %d, retrying %d, failed %d", result.sent, result.retrying, result.failed)
                if not (waker and waker.finish() and running()):
                    break
            beat(DELIVERY_JOB)
        except OperationalError:
            db.session.rollback()
            log.exception("outbox delivery failed; the next tick retries")
        finally:
            if waker:
                with waker.lock:
                    waker.running = False
            db.session.remove()


def poll_job(app: Flask, waker: _Waker) -> None:
    """Wake the delivery when another process committed rows that are due (an indexed read, no write)."""
    with app.app_context():
        try:
            # A read: on SQLite it must not queue for the write lock behind sweeps and deliveries.
            with reading():
                due = wakeup.due_soon(db.session(), clock.now())
            if due:
                waker()
        except OperationalError:
            log.warning("outbox poll failed; the delivery tick still runs")
        finally:
            db.session.remove()


def readiness_job(app: Flask, *, injects: bool = True, reminders: bool = True) -> None:
    """Post drill injects that fell due and/or send the training and policy reminders."""
    with app.app_context():
        try:
            result = run_readiness_sweep(injects=injects, reminders=reminders)
            if result.injects or result.reminders:
                log.info("readiness: %d inject(s) posted, %d reminder(s)", result.injects, result.reminders)
        except OperationalError:
            db.session.rollback()
            log.exception("readiness sweep failed; the next tick retries")
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


def sweep_all(now: datetime | None = None) -> Any:
    """Run one escalation sweep with every extra sweep the scheduler runs (for the CLI)."""
    return run_sweep(now=now, extra=SWEEPS)


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    """Add the jobs (sweep, delivery, outbox poll, drill injects, reminders), each due at once (catch up after downtime) and then every interval.

    The outbox poll is the short, read-only check that wakes the delivery for rows another
    process wrote; rows this process writes wake it directly (crisis.notifications.wakeup).
    """
    sync_settings(app)
    sweep_seconds = float(app.config["SWEEP_SECONDS"])
    outbox_seconds = float(app.config["OUTBOX_SECONDS"])
    poll_seconds = float(app.config.get("OUTBOX_POLL_SECONDS") or 0)
    start = datetime.now(UTC)
    waker = _Waker(scheduler)
    scheduler.add_job(
        sweep_job, "interval", seconds=sweep_seconds, args=[app, waker], id=SWEEP_JOB, name="escalation sweep",
        coalesce=True, max_instances=1, misfire_grace_time=max(1, round(sweep_seconds)), next_run_time=start,
        replace_existing=True,
    )
    scheduler.add_job(
        delivery_job, "interval", seconds=outbox_seconds, args=[app, waker], id=DELIVERY_JOB, name="outbox delivery",
        coalesce=True, max_instances=1, misfire_grace_time=max(1, round(outbox_seconds)), next_run_time=start,
        replace_existing=True,
    )
    if poll_seconds > 0:
        scheduler.add_job(
            poll_job, "interval", seconds=poll_seconds, args=[app, waker], id=POLL_JOB, name="outbox poll",
            coalesce=True, max_instances=1, misfire_grace_time=1, replace_existing=True,
        )
    # Rows this process commits (sweeps; web requests under run.py) wake the delivery at once;
    # the sweep's own rows go straight to the courier, and the delivery records how they went.
    # The courier takes leases only once the scheduler runs (its delivery job records what it
    # sent): a scheduler configured and never started must leave this process's sweeps alone.
    wakeup.listen(waker)
    waker.courier = courier = Courier(app.config, on_sent=waker)
    scheduler.add_listener(lambda event: wakeup.add_courier(courier.take), EVENT_SCHEDULER_START)
    scheduler.add_listener(lambda event: waker.stop(app), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.add_job(
        readiness_job, "interval", seconds=sweep_seconds, args=[app], kwargs={"reminders": False},
        id=READINESS_JOB, name="drill injects", coalesce=True, max_instances=1,
        misfire_grace_time=max(1, round(sweep_seconds)), next_run_time=start, replace_existing=True,
    )
    scheduler.add_job(
        readiness_job, "interval", seconds=REMINDER_SECONDS, args=[app], kwargs={"injects": False},
        id=REMINDERS_JOB, name="training and policy reminders", coalesce=True, max_instances=1,
        # A minute after start: reminders are about days, and a starting scheduler's first
        # sweeps (catching up on escalations) should not queue behind them for the write lock.
        misfire_grace_time=round(REMINDER_SECONDS), next_run_time=start + timedelta(seconds=REMINDER_SECONDS),
        replace_existing=True,
    )
    return scheduler


def _options() -> dict[str, Any]:
    # One worker per job: a slow delivery never delays a sweep, nor the poll.
    return {
        "jobstores": {"default": MemoryJobStore()},
        "executors": {"default": ThreadPoolExecutor(5)},
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


def _tune_interpreter() -> None:
    """Move the loaded app's objects out of the garbage collector's sight, as in the web workers.

    During a burst of escalations, full collections over them were a third of this process's
    CPU (py-spy on the scheduler during bench/notify_latency.py), and the sweep waited on them.
    """
    gc.collect()
    gc.freeze()


def run_blocking_scheduler(app: Flask) -> None:
    """Run the jobs in the foreground until SIGTERM or SIGINT, then finish the running job and exit."""
    scheduler = configure(BlockingScheduler(**_options()), app)
    _tune_interpreter()

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
