"""JSON answers reused while a stamp from the database says nothing they show has changed.

An incident is read far more often than it changes (every responder's page and every
dashboard poll it during a crisis), and building its answer is most of a read's cost. A
resource's answer is encoded once per stamp, a string that changes whenever the resource does
(the stamp must be read in the same request, before the answer is built). The stamp is also the
ETag, so a poller sending If-None-Match gets a 304 without a body.

The cache is per application (so per database) and per process, bounded, least recently used
first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

CACHE_SIZE = 1024


class StampedAnswers:
    """Encoded bodies by key, each valid for one stamp."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._bodies: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers serve requests from several threads

    def get(self, key: str, stamp: str) -> bytes | None:
        with self._lock:
            found = self._bodies.get(key)
            if found is None or found[0] != stamp:
                return None
            self._bodies.move_to_end(key)
            return found[1]

    def put(self, key: str, stamp: str, body: bytes) -> None:
        with self._lock:
            self._bodies[key] = (stamp, body)
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)

    def __len__(self) -> int:
        return len(self._bodies)


def stamped_answers() -> StampedAnswers:
    """Return the current application's cache."""
    return current_app.extensions.setdefault("crisis.stamped_answers", StampedAnswers())


def stamped_json(key: str, stamp: str, build: Callable[[], Any]) -> Response:
    """Answer with `build()` as JSON, encoded once per stamp; the stamp is the (weak) ETag."""
    cache = stamped_answers()
    body = cache.get(key, stamp)
    if body is None:
        body = current_app.json.response(build()).get_data()
        cache.put(key, stamp, body)
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(f"{key}.{stamp}", weak=True)
    if request.if_none_match:
        return response.make_conditional(request)
    return response
