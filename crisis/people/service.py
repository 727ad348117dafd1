"""People: accounts, passwords, permissions, response-role rosters and API tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from crisis import clock
from crisis.db.engine import reading
from crisis.enums import Permission, ResponseRole
from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.extensions import db
from crisis.people.models import ApiToken, Person, PersonPermission, RoleMembership
from crisis.permissions import holds_permission_clause

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "crisis_"
TOKEN_SCOPES = ("api", "alerts")
# A token's last_used_at is kept to this resolution: writing it on every call would put a write
# on every read request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# A short list of the passwords attackers try first; rejected whatever their length.
COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "123456789",
        "1234567890", "12345678910", "qwertyuiop", "qwerty1234", "1q2w3e4r5t", "iloveyou12",
        "letmein123", "welcome123", "admin12345", "administrator", "changeme123", "passw0rd123",
        "football123", "baseball123", "sunshine123", "princess123", "trustno1234", "abc1234567",
        "monkey12345", "dragon12345", "superman123", "11111111111", "00000000000", "aaaaaaaaaa",
    }
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    """Raise InvalidInput when a password is too short or too common."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if password.lower() in COMMON_PASSWORDS:
        raise InvalidInput("That password is on the list of commonly used passwords: choose another.", field="password")


def parse_role(spec: str) -> tuple[str, bool]:
    """Parse `ROLE` or `ROLE:backup` (or `ROLE:primary`) into (role, is_backup)."""
    role, _, rank = spec.partition(":")
    role = role.strip()
    if role not in {r.value for r in ResponseRole}:
        known = ", ".join(r.value for r in ResponseRole)
        raise InvalidInput(f"There is no response role “{role}”. Known roles: {known}.", field="role")
    if rank not in ("", "primary", "backup"):
        raise InvalidInput(f"After the colon write primary or backup (not “{rank}”).", field="role")
    return role, rank == "backup"


def create_person(
    *,
    email: str,
    name: str,
    password: str | None = None,
    permissions: Iterable[str] = (),
    roles: Iterable[str] = (),
    timezone: str | None = None,
) -> Person:
    """Create a person with permissions and role memberships (`ROLE` or `ROLE:backup`)."""
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise InvalidInput(f"“{email}” is not an email address.", field="email")
    if not name.strip():
        raise InvalidInput("Give the person's name.", field="name")
    if find_person(email) is not None:
        raise Conflict(f"Someone with the email {email} already exists.", field="email")
    known_permissions = {p.value for p in Permission}
    for permission in permissions:
        if permission not in known_permissions:
            raise InvalidInput(
                f"Unknown permission {permission!r} (known: {', '.join(sorted(known_permissions))})",
                field="permission",
            )
    parsed_roles = [parse_role(spec) for spec in roles]
    person = Person(email=email, name=name.strip(), timezone=timezone)
    if password is not None:
        check_password_rules(password)
        person.password_hash = _hash_password(password)
    person.permissions = [PersonPermission(permission=p) for p in dict.fromkeys(permissions)]
    for role, is_backup in parsed_roles:
        rank = _next_rank(role) if is_backup else 0
        person.roles.append(RoleMembership(role=role, is_backup=is_backup, rank=rank))
    db.session.add(person)
    db.session.flush()
    return person


def _next_rank(role: str) -> int:
    highest = db.session.scalar(select(func.max(RoleMembership.rank)).where(RoleMembership.role == role))
    return (highest or 0) + 1


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def set_password(*, person: Person, password: str) -> None:
    """Set a new password (rules checked) and end the person's other sessions."""
    check_password_rules(password)
    person.password_hash = _hash_password(password)
    person.session_version += 1


def find_person(email: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.email == normalise_email(email)))


def get_person(email: str, *, field: str = "email") -> Person:
    """Return the person with this email or raise NotFound naming the field."""
    person = find_person(email)
    if person is None:
        raise NotFound("Nobody here has that email address.", field=field)
    return person


def authenticate(*, email: str, password: str) -> Person | None:
    """Return the active person whose password matches, else None (same answer for every failure)."""
    person = find_person(email)
    if person is None or not person.active or not person.password_hash:
        # Spend the same time as a real check so response times do not reveal who exists.
        check_password_hash(_placeholder_hash(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")), password)
        return None
    if not check_password_hash(person.password_hash, password):
        return None
    return person


@functools.cache
def _placeholder_hash(method: str) -> str:
    """A hash made with the configured method: checking it costs what checking a real one does."""
    return generate_password_hash("not-a-real-password", method=method)


def set_active(*, person: Person, active: bool) -> None:
    """Enable or disable a person; disabling ends every session and revokes their tokens."""
    person.active = active
    if not active:
        person.session_version += 1
        for token in db.session.scalars(select(ApiToken).where(ApiToken.person_id == person.id)):
            token.revoked_at = token.revoked_at or clock.now()


def role_holders(role: str) -> list[Person]:
    """Return the active people on a role's roster: the primary first, then backups by rank."""
    rows = db.session.scalars(
        select(Person)
        .join(RoleMembership)
        .where(RoleMembership.role == role, Person.active.is_(True))
        .order_by(RoleMembership.is_backup, RoleMembership.rank, Person.id)
    )
    return list(rows)


def role_primary(role: str) -> Person | None:
    """Return who should act for a role now: the primary, else the first backup."""
    holders = role_holders(role)
    return holders[0] if holders else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, person: Person, name: str = "", scope: str = "api") -> tuple[ApiToken, str]:
    """Create an API token and return it with its secret, which is never stored or shown again."""
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(f"Token scope must be one of {', '.join(TOKEN_SCOPES)}", field="scope")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        person_id=person.id, name=name, token_hash=hash_token(secret), prefix=secret[:12], scope=scope
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(*, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no such API token.", field="token")
    token.revoked_at = token.revoked_at or clock.now()
    return token


def person_for_token(secret: str) -> tuple[Person, ApiToken] | None:
    """Return the active person and live token for a bearer secret, else None."""
    # One query for token and person (plus their permissions); roles load only if asked for,
    # since every API request comes through here.
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret))
        .options(joinedload(ApiToken.person).options(lazyload(Person.roles)))
    )
    if token is None or token.revoked_at is not None or not token.person.active:
        return None
    return token.person, token


@dataclass(frozen=True)
class PersonRef:
    """Who a person is, for code that records or names them but needs nothing else (no ORM load)."""

    id: int
    email: str
    name: str


@dataclass(frozen=True)
class TokenCheck:
    """A live token of an active person, as an API request needs it (no ORM objects loaded)."""

    token_id: int
    person: PersonRef
    scope: str
    last_used_at: datetime | None
    permitted: bool  # the person holds the permission asked about, or admin

    @property
    def person_id(self) -> int:
        return self.person.id


def _token_check_statement():
    tokens, people, grants = ApiToken.__table__, Person.__table__, PersonPermission.__table__
    permitted = holds_permission_clause(grants, tokens.c.person_id, bindparam("permission"))
    return (
        select(tokens.c.id, tokens.c.person_id, people.c.email, people.c.name, tokens.c.scope, tokens.c.last_used_at,
               permitted.label("permitted"))
        .join(people, people.c.id == tokens.c.person_id)
        .where(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked_at.is_(None), people.c.active.is_(True))
    )


_TOKEN_CHECK = _token_check_statement()  # every API request runs it


def check_token(*, secret: str, permission: str | None) -> TokenCheck | None:
    """Return the live token of an active person for a bearer secret (one query), else None."""
    row = db.session.execute(
        _TOKEN_CHECK, {"token_hash": hash_token(secret), "permission": permission or Permission.ADMIN.value}
    ).one_or_none()
    if row is None:
        return None
    token_id, person_id, email, name, scope, last_used_at, permitted = row
    return TokenCheck(
        token_id=token_id, person=PersonRef(id=person_id, email=email, name=name), scope=scope,
        last_used_at=last_used_at, permitted=permission is None or bool(permitted),
    )


def record_token_use(*, token_id: int, last_used_at: datetime | None, separately: bool) -> bool:
    """Set a token's last_used_at to now unless it is under a minute old; return whether it did.

    `separately` writes in a transaction of its own, committed at once (for read-only requests,
    whose own transaction must not write); otherwise the write joins the session's transaction.
    """
    now = clock.now()
    if last_used_at is not None and now - last_used_at < TOKEN_USE_RESOLUTION:
        return False
    tokens = ApiToken.__table__
    # The condition again in SQL, so concurrent requests with one token write it once.
    statement = (
        update(tokens)
        .where(
            tokens.c.id == token_id,
            or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at <= now - TOKEN_USE_RESOLUTION),
        )
        .values(last_used_at=now)
    )
    if separately:
        with reading(False), db.engine.begin() as connection:
            return connection.execute(statement).rowcount == 1
    return db.session.connection().execute(statement).rowcount == 1
