"""Stored playbook versions: each distinct content of a playbook file is one version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crisis import clock
from crisis.db.base import Base


class PlaybookVersion(Base):
    __tablename__ = "playbook_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The parsed definition (crisis.playbooks.definition.Playbook as a dict); incidents pin it.
    # Deferred: ~10 KB of JSON, read only when the definition_of cache misses.
    definition: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    source: Mapped[str] = mapped_column(String(500), default="")
    loaded_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The newest synced version of a key that is still present in playbooks/.
    is_current: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_playbook_versions_key_version"),
        UniqueConstraint("key", "content_hash", name="uq_playbook_versions_key_hash"),
    )
