"""Sign-in throttling: the database-backed rate limit on failed sign-ins."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from crisis import clock
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.people import service as people
from crisis.people.models import LoginFailure

# Five wrong passwords for one email from one address lock that pair out for fifteen minutes;
# fifty from one address, whatever the emails, lock the address (credential stuffing).
LOGIN_MAX_FAILURES = 5
LOGIN_MAX_FAILURES_PER_ADDRESS = 50
LOGIN_WINDOW = timedelta(minutes=15)


class TooManyAttempts(DomainError):
    status = 429
    code = "rate_limited"


def check_login_allowed(*, email: str, ip: str) -> None:
    """Raise TooManyAttempts while this email+address pair has too many recent failures."""
    email = people.normalise_email(email)[:254]
    since = clock.now() - LOGIN_WINDOW
    failures = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.email == email, LoginFailure.ip == ip[:64], LoginFailure.at > since)
        .order_by(LoginFailure.at)
    ).all()
    if len(failures) >= LOGIN_MAX_FAILURES:
        raise TooManyAttempts(
            "Too many failed sign-ins for this account from your address; "
            f"try again in {_minutes_until(failures[-LOGIN_MAX_FAILURES] + LOGIN_WINDOW)} min.",
            field="email",
        )
    from_address = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.ip == ip[:64], LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .limit(LOGIN_MAX_FAILURES_PER_ADDRESS)
    ).all()
    if len(from_address) >= LOGIN_MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts(
            f"Too many failed sign-ins from your address; try again in {_minutes_until(from_address[-1] + LOGIN_WINDOW)} min.",
            field="email",
        )


def _minutes_until(when: datetime) -> int:
    return max(1, math.ceil((when - clock.now()).total_seconds() / 60))


def record_login_failure(*, email: str, ip: str) -> None:
    """Remember a failed sign-in (and forget every failure older than the window)."""
    email = people.normalise_email(email)[:254]
    now = clock.now()
    # Failures older than the window count for nothing; the table stays as small as the attacks.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - LOGIN_WINDOW))
    db.session.add(LoginFailure(email=email, ip=ip[:64], at=now))


def clear_login_failures(*, email: str, ip: str) -> None:
    """Forget a pair's failures after a successful sign-in."""
    db.session.execute(
        delete(LoginFailure).where(LoginFailure.email == people.normalise_email(email)[:254], LoginFailure.ip == ip[:64])
    )
