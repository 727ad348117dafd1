"""Sign-in throttling: the database-backed rate limits on failed sign-ins.

Three limits, each over the last fifteen minutes:
- one account from one address (guessing a password): five failures lock that pair;
- one account from anywhere (guessing from many addresses): twenty failures lock the account;
- one address, whatever the accounts (spraying): past fifty failures the address is *slowed*,
  not locked. A company's office signs in through one address, so an attack from it must not
  lock out the colleagues behind it: a correct password for an account with no recent failure
  still signs in; anything else from that address is refused until the failures age out. A
  sprayer therefore gets at most one guess per account per window, however many it tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from crisis import clock
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.people import service as people
from crisis.people.models import LoginFailure, Person

LOGIN_MAX_FAILURES = 5
LOGIN_MAX_FAILURES_PER_ACCOUNT = 20
LOGIN_MAX_FAILURES_PER_ADDRESS = 50
LOGIN_WINDOW = timedelta(minutes=15)


class TooManyAttempts(DomainError):
    """A sign-in refused by a limit; `retry_at` is when the limit lets this attempt through again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message, field="email")
        self.retry_at = retry_at


@dataclass(frozen=True)
class SignInGate:
    """What the limits say before the password is checked."""

    address_busy: bool
    address_retry_at: datetime | None = None


def _key(email: str, ip: str) -> tuple[str, str]:
    return people.normalise_email(email)[:254], ip[:64]


def _recent(*conditions) -> list[datetime]:
    """The times of the failures matching `conditions` inside the window, oldest first."""
    since = clock.now() - LOGIN_WINDOW
    return list(db.session.scalars(select(LoginFailure.at).where(*conditions, LoginFailure.at > since).order_by(LoginFailure.at)))


def check_login_allowed(*, email: str, ip: str) -> SignInGate:
    """Raise TooManyAttempts while this account is under attack, from this address or from many;
    otherwise say whether the address is busy (then only the password can let the attempt in)."""
    email, ip = _key(email, ip)
    pair = _recent(LoginFailure.email == email, LoginFailure.ip == ip)
    if len(pair) >= LOGIN_MAX_FAILURES:
        raise TooManyAttempts("Too many failed sign-ins for this account from your address.",
                              retry_at=pair[-LOGIN_MAX_FAILURES] + LOGIN_WINDOW)
    account = _recent(LoginFailure.email == email)
    if len(account) >= LOGIN_MAX_FAILURES_PER_ACCOUNT:
        raise TooManyAttempts("Too many failed sign-ins for this account.",
                              retry_at=account[-LOGIN_MAX_FAILURES_PER_ACCOUNT] + LOGIN_WINDOW)
    since = clock.now() - LOGIN_WINDOW
    from_address = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.ip == ip, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .limit(LOGIN_MAX_FAILURES_PER_ADDRESS)
    ).all()
    if len(from_address) < LOGIN_MAX_FAILURES_PER_ADDRESS:
        return SignInGate(address_busy=False)
    return SignInGate(address_busy=True, address_retry_at=from_address[-1] + LOGIN_WINDOW)


def sign_in(*, email: str, password: str, ip: str) -> Person | None:
    """Check the limits and the password; return the person, None for a wrong password, or raise
    TooManyAttempts. Records the failure (the caller commits, a refusal included)."""
    gate = check_login_allowed(email=email, ip=ip)
    if gate.address_busy and _recent(LoginFailure.email == _key(email, ip)[0]):
        # The account already failed in this window: no second guess from a busy address.
        raise TooManyAttempts("Too many failed sign-ins from your address.", retry_at=gate.address_retry_at)
    person = people.authenticate(email=email, password=password)
    if person is None:
        record_login_failure(email=email, ip=ip)
        if gate.address_busy:
            raise TooManyAttempts("Too many failed sign-ins from your address.", retry_at=gate.address_retry_at)
        return None
    clear_login_failures(email=email, ip=ip)
    return person


def record_login_failure(*, email: str, ip: str) -> None:
    """Remember a failed sign-in (and forget every failure older than the window)."""
    email, ip = _key(email, ip)
    now = clock.now()
    # Failures older than the window count for nothing; the table stays as small as the attacks.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - LOGIN_WINDOW))
    db.session.add(LoginFailure(email=email, ip=ip, at=now))


def clear_login_failures(*, email: str, ip: str) -> None:
    """Forget a pair's failures after a successful sign-in."""
    email, ip = _key(email, ip)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip))

