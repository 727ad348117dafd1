"""The declarative base, column types shared by every model, and engine settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NoReturn

from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, MultipleResultsFound
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations name the same constraint the same way everywhere.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database (SQLite stores no offset, so we store UTC naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()},
    )


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    if _is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


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


def is_reading() -> bool:
    """Return whether the current work was marked read-only with `reading`."""
    return _reading.get()


def lookup_connection() -> Any:
    """Return the driver connection for a `DriverStatement` lookup (the token check, a stamp, ...).

    In a read-only request it is one pooled connection kept for the request and returned at its
    end: the ORM session's transaction machinery cost more than the lookups themselves, which
    are most of a cached read. Anywhere else it is the session's own (`session_connection`), so
    the lookup joins the work's transaction (a second SQLite connection would wait on its write
    lock).
    """
    from flask import g, has_request_context

    from crisis.extensions import db

    if not (_reading.get() and has_request_context() and "crisis_reading" in g):
        return session_connection()
    connection = g.get("crisis_lookup_connection")
    if connection is None:
        connection = g.crisis_lookup_connection = db.engine.raw_connection()
    return connection


def session_connection() -> Any:
    """Return the driver connection of the session's transaction (beginning it if need be)."""
    from crisis.extensions import db

    return db.session.connection().connection


class DriverStatement:
    """A statement run straight on a driver connection, compiled by SQLAlchemy once per driver.

    For the statements on the hot paths: the lookups every API request makes (the token check,
    a cached answer's stamp), an incident's view, and declaring's reads and INSERTs.
    SQLAlchemy's execution context (parameter and result set-up, events, the result object)
    cost several times the SQLite statement it wraps (the token check: about 76 us against
    17 us). Bind and result processors are SQLAlchemy's own, so values go in and come back as
    with SQLAlchemy, and driver errors are raised as SQLAlchemy's. Scalar parameters only (no
    expanding IN); an INSERT names its `columns` and must give every column with a Python-side
    default a value (no defaults are run here). SQLAlchemy's events do not see these statements.

    Each call takes the connection: `lookup_connection()` to read, `session_connection()` to
    write in the session's transaction.
    """

    def __init__(self, statement: Any, *, columns: tuple[str, ...] | None = None) -> None:
        self.statement = statement
        self.columns = columns
        self._compiled: dict[type, _Compiled] = {}  # by driver connection class

    def one_or_none(self, connection: Any, params: dict[str, Any]) -> tuple | None:
        """Return the one row as a tuple, None if there is none; raise if there are more."""
        rows = self._run(connection, params, limit=2)
        if not rows:
            return None
        if len(rows) > 1:
            raise MultipleResultsFound("a lookup expected at most one row")
        return rows[0]

    def first(self, connection: Any, params: dict[str, Any]) -> tuple | None:
        """Return the first row (of a SELECT, or what an INSERT ... RETURNING returns), if any."""
        rows = self._run(connection, params, limit=1)
        return rows[0] if rows else None

    def all(self, connection: Any, params: dict[str, Any]) -> list[tuple]:
        """Return every row, as tuples."""
        return self._run(connection, params)

    def execute_many(self, connection: Any, rows: list[dict[str, Any]]) -> None:
        """Run once per parameter set (the driver's executemany)."""
        compiled = self._for(connection)
        parameters = [compiled.parameters(row) for row in rows]
        cursor = connection.cursor()
        try:
            cursor.executemany(compiled.sql, parameters)
        except compiled.driver_error as error:
            compiled.raise_as_sqlalchemy(error, connection, cursor, parameters)
        finally:
            cursor.close()

    def _run(self, connection: Any, params: dict[str, Any], *, limit: int | None = None) -> list[tuple]:
        compiled = self._for(connection)
        parameters = compiled.parameters(params)
        cursor = connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            if cursor.description is None:
                return []
            rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        except compiled.driver_error as error:
            compiled.raise_as_sqlalchemy(error, connection, cursor, parameters)
        finally:
            cursor.close()
        return [compiled.row(row) for row in rows] if compiled.converts_rows else [tuple(row) for row in rows]

    def _for(self, connection: Any) -> _Compiled:
        driver = type(getattr(connection, "dbapi_connection", connection))
        compiled = self._compiled.get(driver)
        if compiled is None:
            from crisis.extensions import db

            compiled = self._compiled[driver] = _Compiled(self.statement, db.engine.dialect, self.columns)
        return compiled


class _Compiled:
    def __init__(self, statement: Any, dialect: Any, columns: tuple[str, ...] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns) if columns else None)
        if any(bind.expanding or bind.literal_execute for bind in compiled.binds.values()):
            raise ValueError("a DriverStatement takes scalar parameters only")
        if getattr(compiled, "insert_prefetch", None):
            missing = ", ".join(column.name for column in compiled.insert_prefetch)
            raise ValueError(f"a DriverStatement runs no column defaults: give {missing} in its columns")
        self.sql = compiled.string
        # Values bound in the statement itself (a literal compared against); the rest come per call.
        self._defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        # (name, processor or None) in the order the driver takes them; None for a named paramstyle.
        self._positional = [(name, processors[name]) for name in compiled.positiontup] if dialect.positional else None
        self._processors = {name: processor for name, processor in processors.items() if processor is not None}
        self._results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                         for column in statement.exported_columns]
        self.converts_rows = any(self._results)
        self.dialect = dialect
        self.driver_error = dialect.loaded_dbapi.Error

    def raise_as_sqlalchemy(self, error: Exception, connection: Any, cursor: Any, parameters: Any) -> NoReturn:
        """Raise a driver's error as SQLAlchemy would (IntegrityError, OperationalError, ...).

        A lost connection is also dealt with as SQLAlchemy would: this one is discarded and the
        pool emptied, since a restarted or failed-over server has dropped all the others too.
        """
        from crisis.extensions import db

        disconnected = self.dialect.is_disconnect(error, connection, cursor)
        if disconnected:
            connection.invalidate(error)
            db.engine.dispose()
        raise DBAPIError.instance(
            self.sql, parameters, error, self.driver_error, connection_invalidated=disconnected, dialect=self.dialect
        ) from error

    def parameters(self, params: dict[str, Any]) -> Any:
        if self._defaults:
            params = self._defaults | params
        if self._positional is not None:
            return [params[name] if process is None else process(params[name]) for name, process in self._positional]
        return {name: self._processors[name](value) if name in self._processors else value
                for name, value in params.items()}

    def row(self, row: Any) -> tuple:
        return tuple(value if process is None else process(value) for process, value in zip(self._results, row, strict=True))


# Requests with these methods only read (a view that must write uses `reading(False)`).
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def register_read_only_requests(app: Any) -> None:
    """Run GET, HEAD and OPTIONS requests inside `reading()`, so their SQLite reads run in parallel."""
    from flask import g, request

    def start() -> None:
        if request.method in READ_ONLY_METHODS:
            g.crisis_reading = _reading.set(True)

    def stop(error: BaseException | None) -> None:
        connection = g.pop("crisis_lookup_connection", None)
        if connection is not None:
            connection.close()
        token = g.pop("crisis_reading", None)
        if token is not None:
            _reading.reset(token)

    # First of the before-request hooks, so no hook opens a transaction before it.
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.teardown_request(stop)


def begin_sqlite_explicitly(engine: Engine) -> None:
    """Begin SQLite transactions IMMEDIATE, except DEFERRED for read-only work (`reading`).

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another process wrote in between (WAL snapshot upgrade); taking the write lock up
    front makes concurrent schedulers and web workers queue on busy_timeout instead. Work that
    only reads never upgrades, so it may begin deferred and run beside the writer.

    The dialect's own begin hook is replaced rather than a "begin" event listened for: any
    connection event makes SQLAlchemy run its event dispatch on every statement, which cost
    a third of a short query.
    """
    if engine.dialect.name != "sqlite":
        return

    def do_begin(dbapi_connection: Any) -> None:
        dbapi_connection.execute("BEGIN" if _reading.get() else "BEGIN IMMEDIATE")

    def driver_begins_nothing(dbapi_connection: Any, connection_record: Any) -> None:
        # Only for this engine, whose BEGINs we issue: other engines keep the driver's own.
        dbapi_connection.isolation_level = None

    engine.dialect.do_begin = do_begin  # type: ignore[method-assign]
    # A pool event (not a connection event), so statements pay no dispatch for it.
    event.listen(engine, "connect", driver_begins_nothing)


class AppendOnlyViolation(RuntimeError):
    """Raised when code tries to change or delete a row of an append-only model."""


_APPEND_ONLY_TABLES: dict[str, str] = {}


class AppendOnly:
    """Mixin for records that are written once and never changed or deleted (timeline, audit trail).

    The session refuses, whatever the calling code does: a flush with a modified or deleted row,
    and ORM UPDATE/DELETE statements against the table.
    """

    append_only_label = "records"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__tablename__" in cls.__dict__:
            _APPEND_ONLY_TABLES[cls.__tablename__] = cls.append_only_label


@event.listens_for(Session, "before_flush")
def _forbid_append_only_rewrites(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, AppendOnly) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation(f"{obj.append_only_label} are append-only; this one was modified")
    for obj in session.deleted:
        if isinstance(obj, AppendOnly):
            raise AppendOnlyViolation(f"{obj.append_only_label} are append-only; this one was deleted")


@event.listens_for(Session, "do_orm_execute")
def _forbid_append_only_bulk_rewrites(state: Any) -> None:
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        label = _APPEND_ONLY_TABLES.get(getattr(table, "name", None) or "")
        if label is not None:
            raise AppendOnlyViolation(f"{label} are append-only; bulk rewrite refused")
