"""Running one service call from a form: commit it, or roll back and say why on the page it came from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, redirect

from crisis.errors import DomainError
from crisis.extensions import db

T = TypeVar("T")


def commit_form_action(action: Callable[[], T], *, refused: str, back: str) -> T:
    """Run one service call and commit; on a domain error roll back, flash "`refused`: why" and
    redirect to `back` (through abort, so the view reads straight on to its success path)."""
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        flash(f"{refused}: {error.message}", "error")
        abort(redirect(back))
    db.session.commit()
    return result
