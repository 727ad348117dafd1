"""Single reads that need no transaction: the queries a live page's poll makes every second.

On PostgreSQL a read through the session is four round trips to the server (the pool's ping,
BEGIN, the SELECT, the ROLLBACK when the request ends); a single SELECT needs no transaction,
so it runs on a connection of its own in autocommit (SQLAlchemy's documented
`isolation_level="AUTOCOMMIT"` execution option): two. With every open page polling, the saved
round trips were most of a poll's wait (bench/crisis_room.py). SQLite is in-process, where a
(deferred) transaction costs next to nothing, and its BEGIN recipe (crisis.db.engine) owns the
driver's transaction mode, so there the read goes through the session as everything else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Row

from crisis.extensions import db


def first_row(statement: Executable, params: dict[str, Any] | None = None) -> Row | None:
    """The statement's first row (None if it has none), read outside a transaction where that saves round trips."""
    if db.engine.dialect.name == "sqlite":
        return db.session.execute(statement, params).first()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(statement, params).first()
