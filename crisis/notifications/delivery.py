"""Deliver the outbox: lease due rows in a short transaction, send outside it, record the outcome.

A row is leased by a compare-and-set on its attempt count, so concurrent deliverers never send
the same attempt twice; if a deliverer dies mid-send the lease runs out and the row is tried
again, with the same Idempotency-Key (webhooks) and Message-ID (email) so a receiver can drop
the repeat. Failures back off exponentially (30 s doubling, capped at 30 min) and give up
after a fixed number of attempts, leaving the row `failed` for an admin to see and retry.
"""

from __future__ import annotations

import http.client
import logging
import multiprocessing
import os
import smtplib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update

from crisis import clock
from crisis.db.engine import reading
from crisis.enums import NotificationChannel, NotificationStatus
from crisis.extensions import db
from crisis.notifications import email, wakeup, webhooks
from crisis.notifications.models import Notification, Webhook

log = logging.getLogger(__name__)

PENDING = NotificationStatus.PENDING.value
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 30 * 60
MAX_ATTEMPTS = 10
BATCH_SIZE = 200
# Rounds of BATCH_SIZE per job run: a burst of thousands of escalation emails drains in one run.
MAX_ROUNDS = 25
# Parallel sends; each is bounded by CRISIS_SEND_TIMEOUT.
SENDERS = 8


@dataclass
class DeliveryResult:
    attempted: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass
class _Lease:
    # The row's dedup_key (unique): settling finds the row by it, so a writer that leased its
    # own rows needs no ids back from its INSERT.
    key: str
    attempt: int
    channel: str
    address: str
    subject: str
    body: str
    payload: dict[str, Any]
    webhook: dict[str, Any] | None


def backoff(attempt: int, *, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS) -> timedelta:
    """Return the wait after failed attempt number `attempt` (1-based): base doubling, capped."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


def _settings(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    config = current_app.config if config is None else config
    return {
        "timeout": min(float(config["SEND_TIMEOUT"]), 10.0),
        "max_attempts": int(config.get("DELIVERY_MAX_ATTEMPTS", MAX_ATTEMPTS)),
        "base": float(config.get("DELIVERY_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS)),
        "cap": float(config.get("DELIVERY_BACKOFF_CAP_SECONDS", BACKOFF_CAP_SECONDS)),
        "allow_private": bool(config["WEBHOOK_ALLOW_PRIVATE"]),
    }


def deliver_due(
    *, now: datetime | None = None, limit: int = BATCH_SIZE, rounds: int = MAX_ROUNDS,
    keep_going: Callable[[], bool] = lambda: True, courier: Courier | None = None,
) -> DeliveryResult:
    """Send the email and webhook rows whose next attempt is due; return what happened.

    Sends run in parallel threads (a slow receiver holds up only its own rows) and in rounds of
    `limit` rows until nothing is due, so a burst of escalations drains in one job run. The
    outcomes of what a `courier` sent since the last run are recorded first.
    """
    settings = _settings()
    config = dict(current_app.config)
    result = DeliveryResult()
    if courier is not None:
        courier.settle(result)
    for _ in range(rounds):
        # A stopping scheduler finishes the round it is in, not the whole backlog.
        if not keep_going():
            break
        at = now or clock.now()
        # Look before leasing: on SQLite the lease's transaction takes the write lock, and
        # a wake-up with nothing to lease must not make the sweep queue for it.
        with reading():
            due = wakeup.due_soon(db.session(), at)
        db.session.commit()
        leases = _lease(at, limit, settings) if due else []
        if not leases:
            break
        outcomes = send_round(leases, settings, config)
        _record(outcomes, settings, result)
    return result


def _record(
    outcomes: list[tuple[_Lease, tuple[str | None, bool]]], settings: dict[str, Any], result: DeliveryResult
) -> None:
    """Settle a round's outcomes and commit: sent and retried rows in one executemany each."""
    # One order for every settling writer, so two never wait on each other's rows in a cycle.
    outcomes = sorted(outcomes, key=lambda pair: pair[0].key)
    sent = [lease for lease, (error, _) in outcomes if error is None]
    result.attempted += len(sent)
    result.sent += _settle_sent(sent)
    # Failures that will be tried again are settled together too; giving up stays one by one.
    retries = [(lease, error) for lease, (error, permanent) in outcomes
               if error is not None and not permanent and lease.attempt < settings["max_attempts"]]
    result.attempted += len(retries)
    result.retrying += _settle_retries(retries, settings)
    for lease, (error, permanent) in outcomes:
        if error is None or (not permanent and lease.attempt < settings["max_attempts"]):
            continue
        result.attempted += 1
        outcome = _settle(lease, error, permanent, settings)
        if outcome == NotificationStatus.FAILED.value:
            result.failed += 1
    db.session.commit()


def lease_until(now: datetime, settings: dict[str, Any]) -> datetime:
    """When a lease taken at `now` runs out: long enough that a send (bounded by the timeout) is over."""
    return now + timedelta(seconds=4 * settings["timeout"] + 30)


def _lease(now: datetime, limit: int, settings: dict[str, Any]) -> list[_Lease]:
    """Claim up to `limit` due rows for one attempt each, in one short transaction."""
    table = Notification.__table__
    query = (
        select(table)
        .where(
            table.c.status == PENDING,
            table.c.next_attempt_at <= now,
            table.c.channel.in_((NotificationChannel.EMAIL.value, NotificationChannel.WEBHOOK.value)),
        )
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    )
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = connection.execute(query).all()
    until = lease_until(now, settings)
    hooks = {}
    ids = {row.webhook_id for row in rows if row.webhook_id is not None}
    if ids:
        for hook in db.session.scalars(select(Webhook).where(Webhook.id.in_(ids))):
            hooks[hook.id] = {"format": hook.format, "secret": hook.secret, "active": hook.active, "url": hook.url}
    # One compare-and-set for the batch: a row is ours only if it is still pending and due (a
    # lease moves next_attempt_at into the future, so a concurrent deliverer's UPDATE misses it).
    by_id = {row.id: row for row in rows}
    won = set(connection.execute(
        table.update()
        .where(table.c.id.in_(sorted(by_id)), table.c.status == PENDING, table.c.next_attempt_at <= now)
        .values(attempts=table.c.attempts + 1, next_attempt_at=until)
        .returning(table.c.id)
    ).scalars()) if by_id else set()
    leases = []
    for row in sorted(rows, key=lambda r: r.id):
        if row.id in won:
            leases.append(
                _Lease(
                    key=row.dedup_key, attempt=row.attempts + 1, channel=row.channel, address=row.address,
                    subject=row.subject, body=row.body, payload=row.payload or {},
                    webhook=hooks.get(row.webhook_id) if row.webhook_id is not None else None,
                )
            )
    db.session.commit()
    return leases


def leases_for(rows: Sequence[dict[str, Any]], webhooks: Sequence[Webhook]) -> list[_Lease]:
    """Return the leases of rows their writer leased itself (attempt 1)."""
    hooks = {hook.id: {"format": hook.format, "secret": hook.secret, "active": hook.active, "url": hook.url}
             for hook in webhooks}
    return [
        _Lease(key=row["dedup_key"], attempt=row["attempts"], channel=row["channel"], address=row["address"],
               subject=row["subject"], body=row["body"], payload=row["payload"] or {},
               webhook=hooks.get(row["webhook_id"]) if row["webhook_id"] is not None else None)
        for row in rows if row["attempts"]
    ]


def lease_on_write(rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Lease the rows to deliver (email, webhook) to their writer for attempt 1, before they are inserted."""
    until = lease_until(now, _settings())
    for row in rows:
        if row["status"] == PENDING and row["channel"] in (NotificationChannel.EMAIL.value,
                                                           NotificationChannel.WEBHOOK.value):
            row["attempts"], row["next_attempt_at"] = 1, until


PARENT_CHECK_SECONDS = 0.5
# What a sender process needs of the app's settings (the rest of the config stays here).
_SEND_SETTINGS = ("MAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USER", "SMTP_PASSWORD", "WEBHOOK_SECRET")


class Courier:
    """Sends what the escalation sweep leased to itself the moment its transaction commits.

    The sweep writes its email and webhook rows already leased (attempt 1, the next attempt
    after the lease), so no deliverer elsewhere takes them and no lease transaction stands
    between the commit and the send; on SQLite that transaction would queue for the write lock
    behind the sweep's next batch. The sends run in a process of their own (on a few threads,
    each share over one SMTP session): building and sending a thousand emails is as much
    Python as the sweep that writes them, and in the sweep's own process each slowed the other
    (bench/notify_latency.py). Their outcomes wait here until the delivery job records them
    (`settle`), exactly as for rows it leased itself. If either process dies first, the lease
    runs out and any deliverer tries the row again, with the same Message-ID and Idempotency-Key.
    """

    def __init__(self, config: Mapping[str, Any], on_sent: Callable[[], None]) -> None:
        self.config = {name: config.get(name) for name in _SEND_SETTINGS}
        self.settings = _settings(config)
        self.on_sent = on_sent
        # Spawned, not forked: the scheduler's process has threads and open connections.
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_exit_with, initargs=(os.getpid(),))
        self.pool.submit(_ready).result()  # started now, not on the first burst
        self.lock = threading.Lock()
        self.done: list[tuple[_Lease, tuple[str | None, bool]]] = []
        self.open = True

    def take(self, leases: list[_Lease]) -> None:
        """Start sending `leases` (called after the commit that wrote them)."""
        with self.lock:
            if not self.open:
                return  # stopping: the leases run out and the next deliverer sends them
            future = self.pool.submit(send_round, leases, self.settings, self.config)
        future.add_done_callback(self._sent)

    def _sent(self, future: Future) -> None:
        try:
            outcomes = future.result()
        except Exception:  # noqa: BLE001 - the sender process died: the leases run out and are sent again
            log.exception("the sender process failed; its leases are retried when they run out")
            return
        with self.lock:
            self.done.extend(outcomes)
        self.on_sent()

    def settle(self, result: DeliveryResult) -> None:
        """Record the outcomes of the sends finished so far (in the caller's app context)."""
        with self.lock:
            outcomes, self.done = self.done, []
        if not outcomes:
            return
        try:
            _record(outcomes, self.settings, result)
        except Exception:
            db.session.rollback()
            with self.lock:
                self.done.extend(outcomes)
            raise

    def close(self) -> None:
        """Take nothing more and wait for the sends under way (each bounded by the send timeout)."""
        with self.lock:
            self.open = False
        self.pool.shutdown(wait=True)


def _ready() -> bool:
    return True


def _exit_with(parent: int) -> None:
    """In the sender process: end when the scheduler that started it is gone (even killed).

    Left alone, a sender whose scheduler was killed would wait for work for ever; what it had
    not sent is leased, and the next scheduler sends it when the leases run out.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="crisis-sender-watch", daemon=True).start()


def send_round(
    leases: list[_Lease], settings: dict[str, Any], config: dict[str, Any]
) -> list[tuple[_Lease, tuple[str | None, bool]]]:
    """Attempt a round of leases on parallel threads, each share over one SMTP session."""
    shares = [leases[i::SENDERS] for i in range(min(SENDERS, len(leases)))]
    with ThreadPoolExecutor(max_workers=max(1, len(shares)), thread_name_prefix="crisis-send") as pool:
        return [pair for share in pool.map(lambda part: _send_share(part, settings, config), shares) for pair in share]


def _send_share(
    leases: list[_Lease], settings: dict[str, Any], config: dict[str, Any]
) -> list[tuple[_Lease, tuple[str | None, bool]]]:
    """Attempt a sender thread's share of a round; emails share one SMTP session."""
    connection = email.Connection(config, settings["timeout"])
    try:
        return [(lease, _send(lease, settings, config, connection)) for lease in leases]
    finally:
        connection.close()


def _send(
    lease: _Lease, settings: dict[str, Any], config: dict[str, Any], connection: email.Connection | None = None
) -> tuple[str | None, bool]:
    """Attempt one delivery (runs in a sender thread: no session, no app context needed)."""
    try:
        if lease.channel == NotificationChannel.EMAIL.value:
            message = email.build_message(
                sender=config["MAIL_FROM"], to=lease.address, subject=lease.subject, body=lease.body, key=lease.key
            )
            if connection is not None:
                connection.send(message)
            else:
                email.send(message, config=config, timeout=settings["timeout"])
            return None, False
        hook = lease.webhook
        if hook is None:
            return "the webhook was removed", True
        if not hook["active"]:
            return "the webhook was switched off", True
        secret = hook["secret"] or config.get("WEBHOOK_SECRET") or ""
        document = webhooks.message_for(
            format=hook["format"], subject=lease.subject, body=lease.body,
            link=lease.payload.get("link"), incident=lease.payload.get("incident"), key=lease.key,
        )
        response = webhooks.post(
            url=lease.address, document=document, secret=secret, key=lease.key,
            timeout=settings["timeout"], allow_private=settings["allow_private"],
        )
        if 200 <= response.status < 300:
            return None, False
        return f"HTTP {response.status}: {response.body[:300]}", False
    except webhooks.DeliveryRefused as error:
        return f"refused: {error}", True
    except smtplib.SMTPRecipientsRefused as error:
        return f"recipient refused: {error.recipients}", False
    except (OSError, smtplib.SMTPException, http.client.HTTPException, ValueError) as error:
        return f"{error.__class__.__name__}: {error}", False
    except Exception as error:  # noqa: BLE001 - one odd receiver must not stop the round
        log.exception("unexpected error delivering %s", lease.key)
        return f"{error.__class__.__name__}: {error}", False


_SETTLE_SENT = (
    update(Notification.__table__)
    .where(Notification.__table__.c.dedup_key == bindparam("lease_key"),
           Notification.__table__.c.attempts == bindparam("lease_attempt"),
           Notification.__table__.c.status == PENDING)
    .values(status=NotificationStatus.SENT.value, sent_at=bindparam("sent_at"), next_attempt_at=None)
)


def _settle_sent(leases: list[_Lease]) -> int:
    """Mark delivered rows sent in one executemany (caller commits); a lease that ran out is left alone."""
    if not leases:
        return 0
    now = clock.now()
    db.session.execute(
        _SETTLE_SENT, [{"lease_key": lease.key, "lease_attempt": lease.attempt, "sent_at": now} for lease in leases]
    )
    return len(leases)


_SETTLE_RETRY = (
    update(Notification.__table__)
    .where(Notification.__table__.c.dedup_key == bindparam("lease_key"),
           Notification.__table__.c.attempts == bindparam("lease_attempt"),
           Notification.__table__.c.status == PENDING)
    .values(last_error=bindparam("error"), next_attempt_at=bindparam("retry_at"))
)


def _settle_retries(failures: list[tuple[_Lease, str]], settings: dict[str, Any]) -> int:
    """Record failed attempts that will be retried, each after its backoff, in one executemany."""
    if not failures:
        return 0
    now = clock.now()
    db.session.execute(_SETTLE_RETRY, [
        {"lease_key": lease.key, "lease_attempt": lease.attempt, "error": error[:2000],
         "retry_at": now + backoff(lease.attempt, base=settings["base"], cap=settings["cap"])}
        for lease, error in failures
    ])
    return len(failures)


def _settle(lease: _Lease, error: str | None, permanent: bool, settings: dict[str, Any]) -> str | None:
    """Record an attempt's outcome (caller commits), unless our lease ran out and someone else took the row."""
    table = Notification.__table__
    now = clock.now()
    if error is None:
        values: dict[str, Any] = {"status": NotificationStatus.SENT.value, "sent_at": now, "next_attempt_at": None}
    elif permanent or lease.attempt >= settings["max_attempts"]:
        values = {"status": NotificationStatus.FAILED.value, "last_error": error[:2000], "next_attempt_at": None}
        log.warning("delivery %s failed for good after %d attempts: %s", lease.key, lease.attempt, error)
    else:
        wait = backoff(lease.attempt, base=settings["base"], cap=settings["cap"])
        values = {"last_error": error[:2000], "next_attempt_at": now + wait}
    changed = db.session.execute(
        update(table)
        .where(table.c.dedup_key == lease.key, table.c.attempts == lease.attempt, table.c.status == PENDING)
        .values(**values)
    ).rowcount
    return values.get("status", PENDING) if changed else None
