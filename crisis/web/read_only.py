"""GET, HEAD and OPTIONS requests run as read-only work (crisis.db.engine.reading).

So their SQLite transactions begin DEFERRED and run beside a writer. A view that must write
anyway does it inside `reading(False)`, in a transaction of its own.
"""

from __future__ import annotations

from flask import Flask, g, request

from crisis.db.engine import start_reading, stop_reading

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def register_read_only_requests(app: Flask) -> None:
    def start() -> None:
        if request.method in READ_ONLY_METHODS:
            g.crisis_reading = start_reading()

    def stop(error: BaseException | None) -> None:
        token = g.pop("crisis_reading", None)
        if token is not None:
            stop_reading(token)

    # First of the before-request hooks, so no hook opens a transaction before it.
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.teardown_request(stop)
