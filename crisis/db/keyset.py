"""Keyset paging: the rows after a given sort key, so a list that changes between two pages
neither repeats nor skips a row (an offset would shift under every insert)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement


def after_key(columns: Sequence[Any], values: Sequence[Any] | None, *, descending: bool) -> ColumnElement[bool] | None:
    """Return the condition for rows after `values` in the order of `columns` (all one
    direction, the last one unique), or None when there is no key (the first page).

    Spelled out column by column rather than as a row-value comparison, so each value goes
    through its column's own type (an aware time on SQLite's naive storage, for one).
    """
    if values is None:
        return None
    clauses = []
    for index, column in enumerate(columns):
        beyond = column < values[index] if descending else column > values[index]
        clauses.append(and_(*[columns[j] == values[j] for j in range(index)], beyond))
    return or_(*clauses)
