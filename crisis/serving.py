"""Serve crisis on one machine with gunicorn: several worker processes, the scheduler beside them.

`python run.py` calls `serve`. Each worker builds its own app (no preloading: nothing opened
before the fork is shared), so a worker that dies is replaced without touching the others, and
a change written by one worker or the scheduler reaches the pages served by every other one
through the database (crisis.live.stamps). The scheduler runs in its own process (`flask
scheduler`), so its sweeps never compete with requests for one interpreter.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import signal
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from crisis import create_app

# Worker processes for `python run.py`: one per core and one more, at least two (one busy worker
# never stalls the room), at most four (SQLite's single writer gains nothing from more). A
# worker's threads spend much of each request waiting on the database, and a browser's
# connection stays with the worker that accepted it, so with one worker per core the busier
# one ran out of threads while the cores still had room (bench/crisis_room.py).
MIN_WORKERS, MAX_WORKERS = 2, 4
THREADS = 4
# Live pages ask every second; gunicorn's 2 s default would close a connection that a busy
# moment delayed, and the next request would find it reset.
KEEPALIVE_SECONDS = 5


def default_workers(cores: int | None = None) -> int:
    return max(MIN_WORKERS, min(MAX_WORKERS, (cores or os.cpu_count() or 1) + 1))


class CrisisServer(BaseApplication):
    """gunicorn driven from Python: the settings of gunicorn.conf.py, given as options."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


def _freeze_start_up_objects(worker: Any) -> None:
    # Long-lived start-up objects need no garbage collection passes (see gunicorn.conf.py).
    gc.freeze()
    # A worker killed by a signal (the SIGSEGV of issue 16) writes every thread's stack to
    # stderr, which gunicorn passes on to its log, where bench/crisis_room.py counts it.
    faulthandler.enable(all_threads=True)


def start_scheduler() -> subprocess.Popen:
    """Start `flask --app crisis scheduler` as a child process with this environment."""
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "crisis", "scheduler"])


def stop(process: subprocess.Popen | None, *, wait: float = 20) -> None:
    """Stop a child started here: SIGTERM (the scheduler finishes its running jobs), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(*, host: str, port: int, workers: int, threads: int = THREADS, scheduler: bool = True) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stops the workers and the scheduler)."""
    child = start_scheduler() if scheduler else None
    try:
        CrisisServer({
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "keepalive": KEEPALIVE_SECONDS,
            "graceful_timeout": 20,
            "post_worker_init": _freeze_start_up_objects,
            "proc_name": "crisis",
            # gunicorn's control socket sits at one path per user: two servers would fight over it.
            "control_socket_disable": True,
        }).run()
    finally:
        stop(child)
