"""How a timeline event reads to a person: times taken from the event's data, in their zone.

A stored summary is written once, in no one's time zone; the API keeps it as written. Pages
render the times again from the event's data, so every line reads in the viewer's zone.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# "due 14:05 UTC" as step.activated summaries say it; the moment itself is data["due_at"].
_DUE_UTC = re.compile(r"\bdue (\d{2}:\d{2}) UTC\b")


def event_text(summary: str, data: dict[str, Any] | None, zone: ZoneInfo) -> str:
    """Return an event's summary with its due time from the data, in `zone`."""
    if "UTC" not in summary or not data or not data.get("due_at"):
        return summary
    try:
        due = datetime.fromisoformat(str(data["due_at"]))
    except ValueError:
        return summary
    local = due.astimezone(zone)
    return _DUE_UTC.sub(f"due {local.hour:02d}:{local.minute:02d}", summary, count=1)
