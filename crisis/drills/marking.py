"""How drill traffic is told apart: every message says DRILL; webhooks get it only when flagged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DRILL_MARK = "[DRILL]"


def mark_drill(subject: str) -> str:
    """Prefix a message subject with the drill mark (once)."""
    return subject if subject.startswith(DRILL_MARK) else f"{DRILL_MARK} {subject}"


def drill_webhooks(webhooks: Sequence[Any]) -> list[Any]:
    """Keep the webhooks flagged to receive drill traffic (a chat channel for exercises, say)."""
    return [webhook for webhook in webhooks if webhook.drills]
