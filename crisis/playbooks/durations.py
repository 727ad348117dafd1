"""Durations as playbook authors write them: "30s", "15m", "2h", "1h30m", "1d"."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# A week is already longer than any sane escalation; anything beyond a year is a typo.
MAX_SECONDS = 366 * 86400


def parse_duration(value: str | int, *, allow_zero: bool = False) -> timedelta:
    """Parse a duration such as "15m", "1h30m" or an integer number of seconds.

    Zero is refused unless `allow_zero` (an escalation level may fire the moment a
    step is due); negative values, fractions and unknown units always are.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(
            f"expected a duration such as 30s, 15m, 2h or 1h30m, got {_show(value)}"
        )
    if isinstance(value, int):
        seconds = value
    else:
        text = value.strip().lower().replace(" ", "")
        match = _PATTERN.match(text)
        if not text or match is None:
            if text.lstrip("-").isdigit():
                raise ValueError(
                    f"duration {value!r} has no unit; write e.g. {text}s, {text}m or {text}h"
                )
            raise ValueError(
                f"{value!r} is not a duration; write e.g. 30s, 15m, 2h, 1h30m or 1d"
            )
        seconds = sum(
            int(part) * factor
            for part, (_, factor) in zip(match.groups(), _UNITS, strict=True)
            if part is not None
        )
    if seconds < 0:
        raise ValueError(f"duration {_show(value)} is negative; durations must be positive")
    if seconds == 0 and not allow_zero:
        raise ValueError(f"duration {_show(value)} is zero; durations must be positive")
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {_show(value)} is longer than a year")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Format a timedelta the way playbooks write it ("15m", "1h30m", "0s")."""
    total = value.total_seconds()
    if total < 0:
        raise ValueError(f"cannot format a negative duration ({value})")
    seconds = int(total)
    if seconds != total:
        raise ValueError(f"cannot format a duration with fractions of a second ({value})")
    if seconds == 0:
        return "0s"
    parts = []
    for unit, factor in _UNITS:
        amount, seconds = divmod(seconds, factor)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)
