"""The declarative base, the column types shared by every model, and append-only records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event
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
