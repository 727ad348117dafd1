"""The one seam through which crisis reads the time, so tests move time instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    if _source is not None:
        return _source()
    return datetime.now(UTC)


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (None restores the system clock)."""
    global _source
    _source = source


class FrozenClock:
    """A clock that stands still until told to move; tests install it with `set_source`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        """Move the clock forward by a timedelta given as keyword arguments."""
        self.current += timedelta(**kwargs)
        return self.current

    def set(self, when: datetime) -> datetime:
        """Move the clock to a given aware datetime."""
        self.current = when
        return self.current


def humanize_delta(delta: timedelta) -> str:
    """Say a positive duration the way a person would: '45 s', '12 min', '3 h 5 min', '2 days'."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"
