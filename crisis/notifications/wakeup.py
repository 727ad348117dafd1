"""Wake the outbox delivery the moment outbox rows are committed, instead of on its next tick.

Whoever writes rows that need delivering calls `mark(session)`; after that session commits,
every listener registered in this process runs (the scheduler registers one that moves the
delivery job's next run to now). Rows written by another process (gunicorn workers beside a
`flask scheduler`) are found by the scheduler's short poll (`due_soon`), an indexed read of
the outbox that writes nothing. Nothing here is state: after a crash the rows are in the table
and the poll finds them.

A writer that leased its rows to itself (the escalation sweep, while a courier runs in this
process) hands the leases over with `hand_over`; after the commit they go straight to the
courier (crisis.notifications.delivery.Courier), which sends them at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crisis.enums import NotificationStatus
from crisis.notifications.models import Notification

log = logging.getLogger(__name__)

_KEY = "crisis.outbox_written"
_LEASES = "crisis.outbox_leased"
_listeners: list[Callable[[], None]] = []
_couriers: list[Callable[[list[Any]], None]] = []


def mark(session: Session) -> None:
    """Note that this session's transaction wrote outbox rows to deliver."""
    session.info[_KEY] = True


def listen(callback: Callable[[], None]) -> None:
    """Run `callback` after every commit that wrote outbox rows in this process."""
    if callback not in _listeners:
        _listeners.append(callback)


def forget(callback: Callable[[], None]) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def add_courier(take: Callable[[list[Any]], None]) -> None:
    """Let `take` receive the leases handed over in this process (the first one added does)."""
    if take not in _couriers:
        _couriers.append(take)


def remove_courier(take: Callable[[list[Any]], None]) -> None:
    if take in _couriers:
        _couriers.remove(take)


def has_courier() -> bool:
    """Whether leases handed over in this process are sent at once (else rows wait for a deliverer)."""
    return bool(_couriers)


def hand_over(session: Session, leases: list[Any]) -> None:
    """Give `leases` to this process's courier once this session's transaction commits."""
    session.info.setdefault(_LEASES, []).extend(leases)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    leases = session.info.pop(_LEASES, None)
    if leases:
        for take in _couriers[:1]:
            try:
                take(leases)
            except Exception:  # noqa: BLE001 - the leases run out and any deliverer sends the rows
                log.exception("handing leased rows to the courier failed")
    if session.info.pop(_KEY, False):
        for callback in list(_listeners):
            try:
                callback()
            except Exception:  # noqa: BLE001 - a wake-up is an optimisation; the poll still finds the rows
                log.exception("outbox wake-up failed")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_LEASES, None)


def due_soon(session: Session, now: datetime) -> bool:
    """Whether any outbox row waits for delivery now (one index probe)."""
    return session.scalar(
        select(Notification.id)
        .where(Notification.status == NotificationStatus.PENDING.value, Notification.next_attempt_at <= now)
        .limit(1)
    ) is not None
