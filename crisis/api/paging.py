"""Paging for every API list: `limit` (default 100, at most 500) and an opaque `cursor`.

Each list answers `next_cursor`, null at the end; a client follows it until then. The cursor
carries the sort key of the last row of the page (a keyset, not a position), so rows added or
removed between two fetches neither repeat nor go missing. It is signed with the app's secret
and named after its list: a cursor edited by hand, or taken from another list, is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, request
from itsdangerous import BadData, URLSafeSerializer

from crisis.errors import BadRequest
from crisis.inputs import fits_id

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
QUERY_DOCS = {
    "limit": f"how many to return, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
    "cursor": "where to continue: the next_cursor of the previous page",
}
BAD_CURSOR = "The cursor is not one this list gave out; use the next_cursor of its previous page"

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return: `limit` rows after the sort key `after` (None: from the start)."""

    list_name: str
    limit: int = DEFAULT_LIMIT
    after: tuple[Any, ...] | None = None

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page, to know whether another follows."""
        return self.limit + 1

    def cut(self, rows: Sequence[T], key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
        """Return this page of rows read after `after`, and the cursor of the next page (or None).

        `key` gives a row's sort key: the columns the list is ordered by, ending in a unique one.
        """
        rows = list(rows)
        if len(rows) > self.limit:
            return rows[: self.limit], encode_cursor(self.list_name, key(rows[self.limit - 1]))
        return rows, None


def _serializer(list_name: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=f"crisis.cursor.{list_name}")


def encode_cursor(list_name: str, key: tuple[Any, ...]) -> str:
    return _serializer(list_name).dumps([value.isoformat() if isinstance(value, datetime) else value for value in key])


def decode_cursor(list_name: str, cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """Return the sort key a cursor carries, checked against the list's key `kinds`, or raise a 400."""
    try:
        values = _serializer(list_name).loads(cursor)
    except (BadData, UnicodeError, ValueError):
        raise BadRequest(BAD_CURSOR, field="cursor") from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise BadRequest(BAD_CURSOR, field="cursor")
    key = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is datetime and isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise BadRequest(BAD_CURSOR, field="cursor") from None
            if value.tzinfo is None:
                raise BadRequest(BAD_CURSOR, field="cursor")
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or not fits_id(value):
                raise BadRequest(BAD_CURSOR, field="cursor")
        elif not isinstance(value, kind):
            raise BadRequest(BAD_CURSOR, field="cursor")
        key.append(value)
    return tuple(key)


def page_from_request(list_name: str, *kinds: type) -> Page:
    """Read `limit` and `cursor` from the query string for the list `list_name`, whose sort key
    has the types `kinds`; raise a 400 naming the bad one."""
    raw_limit = request.args.get("limit", "")
    limit = DEFAULT_LIMIT
    if raw_limit != "":
        if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 3) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(f"Limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
        limit = int(raw_limit)
    cursor = request.args.get("cursor", "")
    return Page(list_name=list_name, limit=limit, after=decode_cursor(list_name, cursor, kinds) if cursor else None)
