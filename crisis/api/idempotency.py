"""Idempotent writes: an `Idempotency-Key` header on an API POST or PATCH makes a retry safe.

The key is stored in the same transaction as the write it guards, so either both are saved or
neither. A repeat with the same key and the same request from the same token returns the first
answer (status and body) and writes nothing; the same key with another request is a 422. If the
write was saved but its answer was lost (say, the connection died after the commit), a retry is
told so with a 409 rather than written twice. Only successful answers are kept: a refusal leaves
the key free for a retry. Keys are kept for at least `KEEP`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, request
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from crisis import clock
from crisis.db.base import Base
from crisis.errors import BadRequest, Conflict, InvalidInput
from crisis.extensions import db

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
MAX_KEY = 200
METHODS = ("POST", "PATCH")
FIELD = "Idempotency-Key"


class IdempotencyKey(Base):
    """A key a client sent with a write, what the request was, and the answer it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_keys_token_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]  # None until the answer is known
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)


def _fingerprint() -> str:
    """A hash of what makes two requests the same: method, path, query and body."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable() or not key.isascii():
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY} printable ASCII characters", field=FIELD)
    return key


def _replay(row: IdempotencyKey) -> Any:
    response = current_app.response_class(row.body or "", status=row.status, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _earlier(token_id: int, key: str, fingerprint: str) -> Any:
    """The answer to an earlier request with this key, or None if there was none."""
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key))
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise InvalidInput(f"This {HEADER} was already used for a different request", field=FIELD)
    if row.status is None:
        raise Conflict(
            f"A request with this {HEADER} was saved, but its answer is not known (still running, or lost); "
            "read the resource to see the result", field=FIELD,
        )
    return _replay(row)


def run_idempotently(view: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an API view, honouring an Idempotency-Key header on a POST or PATCH."""
    token_id = g.get("api_token_id")
    if request.method not in METHODS or token_id is None:
        return view(*args, **kwargs)
    key = _key()
    if key is None:
        return view(*args, **kwargs)
    fingerprint = _fingerprint()
    earlier = _earlier(token_id, key, fingerprint)
    if earlier is not None:
        return earlier
    now = clock.now()
    db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.created_at < now - KEEP)
    )
    row = IdempotencyKey(token_id=token_id, key=key, fingerprint=fingerprint, created_at=now)
    # Saved by the view's own commit, with its write: the key exists exactly when the write does.
    db.session.add(row)
    try:
        response = current_app.make_response(view(*args, **kwargs))
    except IntegrityError:
        # Another request with the same key committed first.
        db.session.rollback()
        earlier = _earlier(token_id, key, fingerprint)
        if earlier is None:
            raise
        return earlier
    if row not in db.session:  # the view rolled back (it refused): the key was not used
        return response
    if not 200 <= response.status_code < 300 or not response.is_json:
        # Not an answer to keep (say, a 429 returned rather than raised): the key stays free for a retry.
        if inspect(row).persistent:
            db.session.delete(row)
            db.session.commit()
        else:
            db.session.rollback()
        return response
    row.status = response.status_code
    row.body = response.get_data(as_text=True)
    db.session.commit()
    return response
