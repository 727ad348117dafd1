"""Input no database can store is refused before any view sees it, the same way on every database.

PostgreSQL refuses a NUL character in text and an integer beyond its column's range (a server
error), while SQLite stores the first and accepts the second: without this guard the two
databases would answer the same request differently. One `before_request` hook checks the path,
the query string and form fields; `load_json`, which every API body goes through, checks JSON
bodies and bounds their depth.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from flask import Flask, request
from pydantic import Field

from crisis.errors import BadRequest, NotFound

# Ids and version numbers are INTEGER columns: the smallest range of the databases we run on.
MAX_ID = 2**31 - 1
# Any JSON this app accepts is a few levels deep; deeper bodies are refused before parsing
# could exhaust the interpreter's recursion limit.
MAX_JSON_DEPTH = 64
NUL = "\x00"

StoredId = Annotated[int, Field(ge=1, le=MAX_ID)]


def fits_id(value: int) -> bool:
    """Return whether an integer can be an id or version number in the database."""
    return 1 <= value <= MAX_ID


def parse_id(raw: str | None, *, field: str) -> int | None:
    """Return a positive integer id from text (None when empty), or raise a 400 naming the field."""
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not fits_id(int(raw)):
        raise BadRequest(f"Must be a whole number from 1 to {MAX_ID}.", field=field)
    return int(raw)


def load_json(raw: bytes | str, *, field: str = "body") -> Any:
    """Parse a JSON document, or raise a 400: not JSON, nested too deep, or carrying a NUL."""
    if _too_deep(raw):
        raise BadRequest(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels", field=field)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid JSON", field=field) from None
    found = find_nul(data)
    if found is not None:
        raise BadRequest("Text must not contain a NUL character.", field=found or field)
    return data


def find_nul(data: Any, path: str = "") -> str | None:
    """Return the dotted path of the first string (or key) holding a NUL character, else None."""
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{key}" if where else str(key)
                if NUL in str(key):
                    return inner
                stack.append((inner, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def _too_deep(raw: bytes | str) -> bool:
    """Return whether brackets nest deeper than MAX_JSON_DEPTH (strings are skipped)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def refuse_unstorable_input() -> None:
    """Refuse a NUL anywhere in the request's text, and ids beyond the column range (404)."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and NUL in value:
            raise BadRequest(f"The {name.replace('_', ' ')} in the address must not contain a NUL character.",
                             field=name)
        if isinstance(value, int) and not fits_id(value):
            raise NotFound(f"No {name.replace('_', ' ')} {value}", field=name)
    # Only form posts read their body here: an endpoint may still set a smaller size limit.
    is_form = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
    for source in (request.args, request.form) if is_form else (request.args,):
        for name, value in source.items(multi=True):
            if NUL in name or NUL in value:
                field = name.replace(NUL, "") or "query"
                raise BadRequest(f"The {field} field must not contain a NUL character.", field=field)
    # JSON bodies are checked where they are parsed (`load_json`), after each endpoint's size limit.


def register_input_guard(app: Flask) -> None:
    app.before_request(refuse_unstorable_input)
