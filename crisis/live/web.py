"""The live poll and fragments: an open page asks "changed?" about once a second.

`GET /live?k=incident:INC-2026-0001&k=events:INC-2026-0001&k=bell` answers the stamps
(crisis.live.stamps) of the page's live parts as JSON, with an ETag; a poll that sends it back in
If-None-Match while nothing changed gets a 304 without a body: one query (who asks, and every
part's stamp), no ORM, no rendering. A page also says, with one `h=` per `k=`, which stamp it
shows; when a stamp moved, the answer carries the part's fragment under "parts" and crisis.js
swaps it in: one request per change instead of two. The dashboard's part, which depends on the
page's filter, and any part the render gate turned away, are fetched from the part's own URL
(`/live/incident/<ref>` the steps, `/live/events/<ref>` the recent events, `/live/board`,
`/live/my-steps`, `/live/bell`), which answers the same fragment with the stamp as ETag.

An incident page has two parts: its steps, which a note leaves alone, and its recent events.
Fragments that look the same for many viewers are rendered once per stamp and shared (see
`SharedRenders`): the dashboard, an incident's recent events, the steps of people who may only
view, and the steps of responders offered the same actions (the same `action_profile`: those
who lead the incident, or who own the same steps). The forms of a shared render carry a slot
that each responder's own CSRF token fills as it is served. Fragments about one person (My
steps, the bell) are rendered for that person only. A shared render also stands for later ticks
of the same content for a while (`_tick_grace`), so a tick does not re-render every part at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from crisis.enums import Permission
from crisis.errors import Forbidden, InvalidInput, incident_not_found
from crisis.executive.board import check_board_args, load_board
from crisis.executive.web import _time_formatter
from crisis.incidents.service import action_profile
from crisis.incidents.web import detail_context, events_context, my_steps_context
from crisis.live import stamps
from crisis.live.access import Watcher, current_watcher, session_person_id, watcher_of
from crisis.permissions import has_permission
from crisis.web.access import permission_required

bp = Blueprint("live", __name__)

MAX_KEYS = 8
RENDER_CACHE_SIZE = 256
DEFAULT_POLL_SECONDS = 1
# After an answer that moved a part, a page waits this long before it asks again: a quiet page
# hears of a change within a second, and one watching an incident that changes all the time asks
# a third less often (each of its answers carries a fragment), still within two seconds.
DEFAULT_BUSY_POLL_SECONDS = 1.5
# One live render at a time per worker process by default; a viewer who finds it taken waits
# about one render's time, not longer (it would hold one of the worker's few threads), and is
# then told to come back. The short wait lets the parts of one page, fetched together, pass.
DEFAULT_RENDERS_AT_ONCE = 1
RENDER_WAIT_SECONDS = 0.05
# A shared fragment this young is served for a newer stamp of the same part instead of
# rendering again: while responders change an incident several times a second, each worker
# renders its view-only page a few times a second, however many watch it.
DEFAULT_SHARED_MAX_AGE = 0.5
# Stands in a shared render for the CSRF token of whoever it is served to (letters only, so
# escaping leaves it alone).
CSRF_SLOT = "liveCsrfSlot"
# Stands in a shared render for the stamp it is served under (a render may stand for a later
# tick of the same content), which the page reads back from data-live-stamp.
STAMP_SLOT = "liveStampSlot"


class SharedRenders:
    """Rendered fragments by (part, viewer class), the newest render of each, least recently used
    first out.

    Per process, so each web worker renders a shared state once; bounded, so a long crisis
    cannot grow it. Threads of a gthread worker share it, hence the lock.
    """

    def __init__(self, size: int = RENDER_CACHE_SIZE, now: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.now = now
        self._items: OrderedDict[tuple, tuple[str, str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, stamp: str, *, max_age: float = 0.0, tick_grace: float = 0.0) -> tuple[str, str] | None:
        """The (stamp, body) kept for `key` if it is this stamp's; or, under this stamp, the render of
        the same content at an earlier tick made at most `tick_grace` seconds ago; or another stamp's
        rendered at most `max_age` seconds ago (under its own stamp); else None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
        kept_stamp, body, rendered_at = found
        age = self.now() - rendered_at
        if kept_stamp == stamp or (age <= tick_grace and stamps.only_tick_moved(kept_stamp, stamp)):
            return stamp, body
        if age <= max_age:
            return kept_stamp, body
        return None

    def put(self, key: tuple, stamp: str, body: str) -> None:
        with self._lock:
            self._items[key] = (stamp, body, self.now())
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class RenderGate:
    """At most `limit` live renders at once in this process; the others are told to come back.

    A gthread worker serves a few requests at a time in one interpreter. Left alone, a crowd of
    viewers whose fragments all moved at once would take every thread and the interpreter with
    them, and a responder's action would queue behind their renders. A viewer turned away gets
    a 503 with Retry-After and its page simply asks again on its next poll.
    """

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def render(self, render: Callable[[], str]) -> str | None:
        if not self._slots.acquire(timeout=RENDER_WAIT_SECONDS):
            return None
        try:
            return render()
        finally:
            self._slots.release()


def render_gate() -> RenderGate:
    return current_app.extensions.setdefault(
        "crisis.live.gate", RenderGate(int(current_app.config.get("LIVE_RENDERS_AT_ONCE", DEFAULT_RENDERS_AT_ONCE)))
    )


def shared_renders() -> SharedRenders:
    return current_app.extensions.setdefault("crisis.live.renders", SharedRenders())


@bp.app_context_processor
def inject_live() -> dict:
    """The bell's stamp on every page, and how often pages poll (when quiet, and while their parts keep moving)."""
    polling = {
        "live_poll_seconds": current_app.config.get("LIVE_POLL_SECONDS", DEFAULT_POLL_SECONDS),
        "live_busy_poll_seconds": current_app.config.get("LIVE_BUSY_POLL_SECONDS", DEFAULT_BUSY_POLL_SECONDS),
    }
    return {"live_bell_stamp": _bell_stamp_of_current_user, **polling}


def _bell_stamp_of_current_user() -> str:
    # Called by the templates that show the bell, so a fragment without it reads nothing.
    return stamps.bell_stamp(person_id=current_user.id) if getattr(current_user, "is_authenticated", False) else ""


def _parts(keys: list[str]) -> tuple[tuple[str, ...], str | None]:
    """The kinds of live part asked for, in order, and the incident's reference if one is."""
    kinds, ref = [], None
    for key in keys:
        kind, _, argument = key.partition(":")
        if kind not in stamps.KINDS or bool(argument) != (kind in stamps.INCIDENT_KINDS) or kind in kinds:
            raise InvalidInput(
                f"Unknown live part {key!r}: use incident:<reference>, events:<reference>, board, steps or bell, "
                "each once", field="k"
            )
        if argument and ref is not None and argument.strip().upper() != ref.strip().upper():
            raise InvalidInput("Watch the parts of one incident per poll", field="k")
        kinds.append(kind)
        ref = argument or ref
    return tuple(kinds), ref


def _signed_in(permission: str | None = None) -> Watcher:
    """The watcher of this request, else a redirect to sign in or 403 (lacking `permission`)."""
    watcher = current_watcher()
    if watcher is None:
        abort(redirect(url_for("people.login", next=request.full_path.rstrip("?"))))
    if permission is not None and not has_permission(watcher, permission):
        abort(403)
    return watcher


@bp.route("/live")
def poll():
    named = session_person_id()
    if named is None:
        abort(redirect(url_for("people.login", next=request.full_path.rstrip("?"))))
    keys = request.args.getlist("k")
    if not keys or len(keys) > MAX_KEYS:
        raise InvalidInput(f"Name 1 to {MAX_KEYS} live parts with k=", field="k")
    kinds, ref = _parts(keys)
    shown = request.args.getlist("h")
    if shown and len(shown) != len(keys):
        raise InvalidInput("Give one h= (the stamp the page shows) per k=, or none", field="h")
    # Who asks and every stamp asked for: one query.
    facts, found = stamps.read(kinds=kinds, ref=ref, person_id=named[0], watcher=True)
    watcher = watcher_of(facts, *named)
    if watcher is None:
        abort(redirect(url_for("people.login", next=request.full_path.rstrip("?"))))
    if ({"incident", "events", "board"} & set(kinds)) and not has_permission(watcher, Permission.VIEW):
        raise Forbidden("You may not watch incidents or the dashboard", field="k")
    if None in found:
        raise incident_not_found(ref, field="k")
    answer = dict(zip(keys, found, strict=True))
    etag = hashlib.blake2b(repr(sorted(answer.items())).encode(), digest_size=12).hexdigest()
    if request.if_none_match.contains(etag):
        return _not_modified(etag)
    # A page that says what it shows gets the parts that moved in this answer, saving a request
    # each (the dashboard's, which depends on the page's filter, is still fetched by its URL).
    parts = {}
    for key, kind, stamp, old in zip(keys, kinds, found, shown, strict=False):
        if stamp != old and kind != "board":
            served = _serve(stamp, *_part(kind, ref, watcher, stamp))
            if served is not None:
                parts[key] = served[1]
    response = jsonify({"stamps": answer, "parts": parts} if shown else {"stamps": answer})
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


poll.required_permission = "authenticated"  # type: ignore[attr-defined]


def _zone_of(watcher: Watcher) -> str:
    try:
        return ZoneInfo(watcher.timezone or current_app.config["TIMEZONE"]).key
    except (KeyError, ValueError):
        return current_app.config["TIMEZONE"]


Render = Callable[[], str]
Personal = Callable[[str], str]


def _serve(stamp: str, render: Render, shared: tuple | None = None,
           personal: Personal | None = None) -> tuple[str, str] | None:
    """The (stamp, body) to show for a live part now, or None when the render gate is taken.

    With `shared` (the part and the class of viewer), the body is rendered once per stamp in
    this process and served to every viewer of that class, through `personal` if given (which
    fills in what is this viewer's own); while the part changes faster than
    LIVE_SHARED_MAX_AGE, a render that young is served for the newer stamp too, under its own
    stamp, so the page asks again on its next poll. A render waits for nothing: when the
    process's render gate is taken, the viewer is told to come back.
    """
    personal = personal or (lambda body: body)
    if shared is not None:
        max_age = float(current_app.config.get("LIVE_SHARED_MAX_AGE", DEFAULT_SHARED_MAX_AGE))
        kept = shared_renders().get(shared, stamp, max_age=max_age, tick_grace=_tick_grace(shared))
        if kept is not None:
            return kept[0], personal(kept[1].replace(STAMP_SLOT, kept[0]))
    body = render_gate().render(render)
    if body is None:
        return None
    if shared is not None:
        shared_renders().put(shared, stamp, body)
    return stamp, personal(body.replace(STAMP_SLOT, stamp))


def _tick_grace(shared: tuple) -> float:
    """How long a shared render stands for later ticks of the same content: one to two ticks,
    the same for a part every time, different between parts.

    Relative times ("due in 3 min") are what a tick refreshes. Were every shared render redone at
    each tick, every worker would render every class of viewer's view of a busy incident in the
    same second, and responders' actions would queue behind that burst; spread over a tick, the
    same renders pass unnoticed. Relative times are then at most two ticks old.
    """
    return stamps.tick_seconds() * (1 + zlib.crc32(repr(shared).encode()) % 1000 / 1000)


def _fragment(stamp: str, render: Render, shared: tuple | None = None, personal: Personal | None = None):
    """Answer a live part's fragment with its stamp as ETag: 304 if the viewer has it, else the body."""
    if request.if_none_match.contains(stamp):
        return _not_modified(stamp)
    served = _serve(stamp, render, shared, personal)
    if served is None:
        busy = current_app.response_class("Busy; the page asks again shortly.", status=503, mimetype="text/plain")
        busy.headers["Retry-After"] = "1"
        return busy
    served_stamp, body = served
    if request.if_none_match.contains(served_stamp):
        return _not_modified(served_stamp)
    return _fragment_response(served_stamp, body)


def _part(kind: str, ref: str | None, watcher: Watcher | None,
          stamp: str) -> tuple[Render, tuple | None, Personal | None]:
    """How to render a live part (incident, events, steps or bell) for the signed-in person: (render, shared
    key, personal).

    Steps and the bell are that person's own; an incident's parts need the `watcher` to know whom they are
    shared with.
    """
    if kind == "events":
        assert ref is not None and watcher is not None
        return (
            lambda: render_template("incidents/_recent_events.html", events_stamp=STAMP_SLOT, **events_context(ref)),
            ("events", ref.strip().upper(), _zone_of(watcher)),
            None,
        )
    if kind == "incident":
        assert ref is not None and watcher is not None
        if has_permission(watcher, Permission.RESPOND):
            # Forms with the actions this viewer is offered: shared by everyone offered the same.
            profile = action_profile(ref, person_id=watcher.person_id, admin=has_permission(watcher, Permission.ADMIN))
            return (
                lambda: render_template("incidents/_steps.html", live_stamp=STAMP_SLOT, live_csrf_slot=CSRF_SLOT,
                                        **detail_context(ref)),
                ("incident", ref.strip().upper(), _zone_of(watcher), "respond", profile),
                lambda body: body.replace(CSRF_SLOT, generate_csrf()),
            )
        return (
            lambda: render_template("incidents/_steps.html", live_stamp=STAMP_SLOT, **detail_context(ref, actions=False)),
            ("incident", ref.strip().upper(), _zone_of(watcher)),
            None,
        )
    if kind == "steps":
        return lambda: render_template("incidents/my_steps.html", live_stamp=stamp, **my_steps_context()), None, None
    return lambda: render_template("notifications/_bell_live.html", live_bell_stamp=lambda: stamp), None, None


def _not_modified(stamp: str):
    response = current_app.response_class(status=304)
    response.set_etag(stamp)
    return response


def _fragment_response(stamp: str, body: str):
    response = current_app.response_class(body, mimetype="text/html")
    response.set_etag(stamp)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@bp.route("/live/incident/<ref>")
def incident(ref):
    watcher = _signed_in(Permission.VIEW)
    stamp = stamps.incident_stamp(ref=ref)
    return _fragment(stamp, *_part("incident", ref, watcher, stamp))


incident.required_permission = "view"  # type: ignore[attr-defined]


@bp.route("/live/events/<ref>")
def events(ref):
    watcher = _signed_in(Permission.VIEW)
    stamp = stamps.events_stamp(ref=ref)
    return _fragment(stamp, *_part("events", ref, watcher, stamp))


events.required_permission = "view"  # type: ignore[attr-defined]


@bp.route("/live/board")
def board():
    watcher = _signed_in(Permission.VIEW)
    args = check_board_args(request.args.get("severity"), request.args.get("page"))
    stamp = stamps.board_stamp()
    # Row links differ for those who may respond (the working page) and those who only view.
    key = ("board", _zone_of(watcher), has_permission(watcher, Permission.DECLARE),
           has_permission(watcher, Permission.RESPOND), args["severity"], args["page"])
    return _fragment(stamp, lambda: render_template(
        "executive/_board_live.html", board=load_board(**args), at=_time_formatter(), live_stamp=STAMP_SLOT
    ), shared=key)


board.required_permission = "view"  # type: ignore[attr-defined]


@bp.route("/live/my-steps")
@permission_required(None)
def my_steps():
    stamp = stamps.steps_stamp(person_id=current_user.id)
    return _fragment(stamp, *_part("steps", None, None, stamp))


@bp.route("/live/bell")
@permission_required(None)
def bell():
    stamp = stamps.bell_stamp(person_id=current_user.id)
    return _fragment(stamp, *_part("bell", None, None, stamp))
