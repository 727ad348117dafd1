"""Values the whole suite shares."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

PASSWORD = "correct-horse-battery"
START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
# Screenshots and traces of the browser tests.
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
