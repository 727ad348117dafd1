"""Engine settings: what every engine is created with, SQLite's pragmas and its BEGIN modes.

SQLite transactions begin IMMEDIATE (taking the write lock up front), except DEFERRED for
work marked read-only with `reading`: a deferred transaction that reads and then writes fails
at once with "database is locked" when another process wrote in between, while an immediate
one queues on the busy timeout; work that only reads never upgrades, so it may begin deferred
and run beside the writer. The BEGINs are issued with SQLAlchemy's documented recipe (the
SQLite dialect's "Serializable isolation / Savepoints / Transactional DDL"): the driver is told
to begin nothing itself, and the engine's "begin" event emits our BEGIN.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# Given to Flask-SQLAlchemy for every engine. A connection the server dropped (a restart, a
# fail-over) is found by the ping on checkout and replaced, instead of failing a request.
ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA synchronous=NORMAL",
)


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection (of any engine)."""
    if _is_sqlite(dbapi_connection):
        for pragma in SQLITE_PRAGMAS:
            dbapi_connection.execute(pragma)


# Set while the current unit of work only reads (a GET or HEAD request): see `reading`.
_reading: ContextVar[bool] = ContextVar("crisis_reading", default=False)


@contextmanager
def reading(only_reads: bool = True) -> Iterator[None]:
    """Mark the work in this block as read-only (or, with False, as writing again).

    SQLite transactions begun inside it are DEFERRED, so readers run in parallel instead of
    queueing for the write lock. Nothing in the block may write through a transaction that has
    already read (it would fail with "database is locked" if another process wrote meanwhile);
    a write that must happen opens its own transaction inside `reading(False)`.
    """
    token = _reading.set(only_reads)
    try:
        yield
    finally:
        _reading.reset(token)


def start_reading() -> Token[bool]:
    """Mark the work from here on as read-only, until `stop_reading` (for request hooks)."""
    return _reading.set(True)


def stop_reading(token: Token[bool]) -> None:
    _reading.reset(token)


def is_reading() -> bool:
    """Return whether the current work was marked read-only with `reading`."""
    return _reading.get()


def configure_engine(engine: Engine) -> None:
    """Apply the BEGIN recipe to one of the app's engines (only SQLite ones need it).

    Other engines (a test's, a benchmark's) keep the driver's own transactions.
    """
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _driver_begins_nothing)
    event.listen(engine, "begin", _begin)


def _driver_begins_nothing(dbapi_connection: Any, connection_record: Any) -> None:
    # The recipe's first half: stop the sqlite3 module from emitting BEGIN (and a COMMIT before DDL).
    dbapi_connection.isolation_level = None


def _begin(connection: Connection) -> None:
    # The recipe's second half: emit our own BEGIN, in the mode the work needs.
    connection.exec_driver_sql("BEGIN" if _reading.get() else "BEGIN IMMEDIATE")
