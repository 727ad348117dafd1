"""Jinja filters: times in the viewer's time zone, relative times, durations, safe Markdown."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup

from crisis import clock
from crisis.clock import humanize_delta
from crisis.incidents.activation import event_names
from crisis.incidents.queries import playbook_of
from crisis.timeline.display import EventNames, event_text

# html=False escapes raw HTML; links and images may only point at http(s), mailto or this site.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_LINK_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    url = url.strip().lower()
    return url.startswith(_ALLOWED_LINK_SCHEMES) or url.startswith("#") or (url.startswith("/") and not url.startswith("//"))


_markdown.validateLink = _safe_link


def viewer_zone() -> ZoneInfo:
    """Return the signed-in person's time zone, else the configured default."""
    name = None
    if current_user and getattr(current_user, "is_authenticated", False):
        name = current_user.timezone
    try:
        return ZoneInfo(name or current_app.config["TIMEZONE"])
    except (KeyError, ValueError):
        return ZoneInfo(current_app.config["TIMEZONE"])


def localtime(value: datetime | None, fmt: str = "%d %b %Y %H:%M %Z") -> str:
    if value is None:
        return "—"
    return value.astimezone(viewer_zone()).strftime(fmt)


def relative(value: datetime | None) -> str:
    """'in 12 min' or '5 min ago', against the crisis clock."""
    if value is None:
        return "—"
    delta = value - clock.now()
    if abs(delta.total_seconds()) < 30:
        return "just now"
    text = humanize_delta(delta)
    return f"in {text}" if delta.total_seconds() > 0 else f"{text} ago"


def due_phrase(due_at: datetime | None) -> str:
    """'due in 12 min' or 'overdue by 5 min'."""
    if due_at is None:
        return ""
    delta = due_at - clock.now()
    if delta.total_seconds() >= 0:
        return f"due in {humanize_delta(delta)}"
    return f"overdue by {humanize_delta(delta)}"


@functools.lru_cache(maxsize=1024)
def markdown(text: str | None) -> Markup:
    # Cached: the texts are mostly playbook guidance, rendered again on every incident page.
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes raw HTML (html=False)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["relative"] = relative
    app.jinja_env.filters["due_phrase"] = due_phrase
    app.jinja_env.filters["markdown"] = markdown
    app.jinja_env.filters["isoformat"] = lambda v: v.isoformat() if v else ""
    app.jinja_env.globals["now"] = clock.now
    app.jinja_env.filters["event_text"] = lambda event, incident=None: event_text(
        event.summary, event.data, viewer_zone(), kind=event.kind, names=names_of(incident) if incident else None
    )


def names_of(incident) -> EventNames:
    """What the incident's keys read as, worked out once per request."""
    cache = g.setdefault("event_names", {})
    if incident.id not in cache:
        cache[incident.id] = event_names(incident, playbook_of(incident))
    return cache[incident.id]
