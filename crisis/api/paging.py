"""Paging for every API list: `limit` (default 100, at most 500) and an opaque `cursor`.

Each list answers `next_cursor`, null at the end; a client follows it until then. The cursor
is opaque to clients (today it carries the position in the list's fixed order), so how it
works can change without breaking them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from flask import request

from crisis.errors import BadRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1
QUERY_DOCS = {
    "limit": f"how many to return, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
    "cursor": "where to continue: the next_cursor of the previous page",
}

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page, to know whether another follows."""
        return self.limit + 1

    def cut(self, rows: Sequence[T]) -> tuple[list[T], str | None]:
        """Return this page of rows read from `offset` on, and the cursor of the next page (or None)."""
        rows = list(rows)
        if len(rows) > self.limit:
            return rows[: self.limit], encode_cursor(self.offset + self.limit)
        return rows, None

    def slice(self, rows: Sequence[T]) -> tuple[list[T], str | None]:
        """Return this page of a whole list held in memory, and the next page's cursor."""
        return self.cut(list(rows)[self.offset : self.offset + self.fetch])


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["o"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise BadRequest("Cursor is not one this API gave out; use the next_cursor of a page", field="cursor") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise BadRequest("Cursor is not one this API gave out; use the next_cursor of a page", field="cursor")
    return offset


def page_from_request() -> Page:
    """Read `limit` and `cursor` from the query string, or raise a 400 naming the bad one."""
    raw_limit = request.args.get("limit", "")
    limit = DEFAULT_LIMIT
    if raw_limit != "":
        if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 3) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(f"Limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
        limit = int(raw_limit)
    cursor = request.args.get("cursor", "")
    return Page(limit=limit, offset=decode_cursor(cursor) if cursor else 0)
