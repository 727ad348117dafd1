"""The alert intake endpoints and the recorded payloads the alerts tests send."""

from __future__ import annotations

import json
from pathlib import Path

PAYLOADS = Path(__file__).resolve().parents[1] / "alerts" / "payloads"
MONITOR = "monitor@example.com"
AM = "/api/v1/alerts/alertmanager"
EVENTS = "/api/v1/alerts/events"


def payload(name: str) -> dict:
    """Return a recorded payload from tests/alerts/payloads (a fresh copy each time)."""
    return json.loads((PAYLOADS / f"{name}.json").read_text())
