"""Web views' access: login plus a system permission (the rule is in crisis.permissions),
declared on the view; a refusal becomes the sign-in redirect or a 403 page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, redirect, request, url_for
from flask_login import current_user

from crisis.permissions import has_permission


def permission_required(permission: str | None) -> Callable:
    """Require a signed-in person holding `permission` (None: any signed-in person)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("people.login", next=request.full_path.rstrip("?")))
            if permission is not None and not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permission = permission or "authenticated"  # type: ignore[attr-defined]
        return wrapper

    return decorate


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone (login page, health, static), for the URL-map test."""
    view.required_permission = "public"  # type: ignore[attr-defined]
    return view
