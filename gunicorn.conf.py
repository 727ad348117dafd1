"""gunicorn settings for crisis: `gunicorn -c gunicorn.conf.py 'crisis:create_app()'`."""

import faulthandler
import gc
import os

from crisis.serving import KEEPALIVE_SECONDS, default_workers

bind = os.environ.get("CRISIS_BIND", "127.0.0.1:8000")
# One worker per core and one more, as `python run.py` does (the reason is in crisis/serving.py).
workers = int(os.environ.get("CRISIS_WEB_WORKERS", default_workers()))
worker_class = "gthread"
threads = int(os.environ.get("CRISIS_WEB_THREADS", "4"))
timeout = 30
keepalive = KEEPALIVE_SECONDS
graceful_timeout = 20
accesslog = "-"


def post_worker_init(worker):
    """Move the loaded app's objects out of the garbage collector's sight.

    A full collection over the ~140k objects of a loaded app takes tens of milliseconds and
    would land on every few requests (it set the p95 of the dashboard in bench/pages.py).
    """
    gc.freeze()
    # A worker killed by a signal (the SIGSEGV of issue 16) writes every thread's stack to
    # stderr, which gunicorn passes on to its log, where bench/crisis_room.py counts it.
    faulthandler.enable(all_threads=True)
