"""Ending a request's database session safely, even when its connection has died.

Both faces' error handlers use these, so they sit below both (`api.errors` and
`web.lost_connection` import them; neither imports the other for them).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from crisis.extensions import db

log = logging.getLogger(__name__)


def is_lost_connection(error: BaseException) -> bool:
    """Return whether an error means the database (or the connection to it) is gone."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError)


def rollback_safely() -> None:
    """Roll the request's session back; on a dead connection, drop the connection instead.

    Error handlers roll back so a refused request changes nothing; if the connection died
    meanwhile, nothing was committed anyway, and the refusal still answers, not a bare 500.
    """
    try:
        db.session.rollback()
    except SQLAlchemyError:
        discard_session()


def discard_session() -> None:
    """End the request's session; if its rollback fails on a dead connection, drop the connection."""
    try:
        db.session.remove()
    except SQLAlchemyError:
        try:
            db.session().invalidate()
            db.session.remove()
        except SQLAlchemyError:
            log.warning("could not release a database session after a lost connection", exc_info=True)
