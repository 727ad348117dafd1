"""Admin actions, each on the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from crisis.audit import audit, list_audit_events
from crisis.enums import Permission, ResponseRole
from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.extensions import db
from crisis.people import service as people
from crisis.people.models import ApiToken, Person, PersonPermission, RoleMembership
from crisis.people.throttle import (
    LOGIN_MAX_FAILURES,
    LOGIN_MAX_FAILURES_PER_ADDRESS,
    LOGIN_WINDOW,
    TooManyAttempts,
    check_login_allowed,
    clear_login_failures,
    record_login_failure,
)
from crisis.statements import service as statements
from crisis.statements.models import HoldingStatement, SpokespersonAuthorisation

# Sign-in throttling and the audit trail live in `crisis.people.throttle` and `crisis.audit`;
# their names stay importable from here for old callers.
__all__ = [
    "LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_WINDOW", "TooManyAttempts",
    "check_login_allowed", "clear_login_failures", "list_audit_events", "record_login_failure",
]


# ---------------------------------------------------------------- people, roles, rosters


def list_people() -> list[Person]:
    """Return everyone, active first, by name."""
    return list(db.session.scalars(select(Person).order_by(Person.active.desc(), Person.name, Person.id)))


def get_person_by_id(person_id: int) -> Person:
    """Return the person with this id, or raise NotFound."""
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("There is no such person.", field="person")
    return person


def create_person(
    *, actor: Person, email: str, name: str, password: str | None, permissions: Iterable[str], roles: Iterable[str]
) -> Person:
    """Create a person (password rules apply) and audit it."""
    person = people.create_person(
        email=email, name=name, password=password or None, permissions=list(permissions), roles=list(roles)
    )
    audit(
        actor=actor, action="person.created", target=person.email,
        data={"permissions": sorted(person.permission_names), "roles": _role_specs(person)},
    )
    return person


def update_person(*, actor: Person, person: Person, name: str, permissions: Iterable[str], roles: Iterable[str]) -> Person:
    """Replace a person's name, system permissions and response roles, and audit the change."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("Give a name of 1 to 200 characters.", field="name")
    known = {p.value for p in Permission}
    wanted = list(dict.fromkeys(permissions))
    for permission in wanted:
        if permission not in known:
            raise InvalidInput("Choose permissions from the list.", field="permissions")
    if person.id == actor.id and Permission.ADMIN.value not in wanted:
        raise Conflict("You cannot take the admin permission away from yourself.", field="permissions")
    parsed = [people.parse_role(spec) for spec in roles if spec.strip()]
    before = {"name": person.name, "permissions": sorted(person.permission_names), "roles": _role_specs(person)}
    person.name = name
    person.permissions = [p for p in person.permissions if p.permission in wanted] + [
        PersonPermission(permission=p) for p in wanted if p not in person.permission_names
    ]
    kept = {m.role: m for m in person.roles}
    memberships = []
    for role, is_backup in dict(parsed).items():
        membership = kept.get(role)
        if membership is None:
            membership = RoleMembership(role=role, is_backup=is_backup, rank=_next_rank(role) if is_backup else 0)
        elif membership.is_backup != is_backup:
            membership.is_backup = is_backup
            membership.rank = _next_rank(role) if is_backup else 0
        memberships.append(membership)
    person.roles = memberships
    db.session.flush()
    after = {"name": person.name, "permissions": sorted(person.permission_names), "roles": _role_specs(person)}
    if before != after:
        audit(actor=actor, action="person.updated", target=person.email, data={"before": before, "after": after})
    return person


def set_person_active(*, actor: Person, person: Person, active: bool) -> Person:
    """Enable or disable a person; disabling ends their sessions and revokes their tokens."""
    if person.id == actor.id and not active:
        raise Conflict("You cannot disable your own account.", field="person")
    if person.active == active:
        raise Conflict(f"{person.name} is already {'active' if active else 'disabled'}.", field="person")
    people.set_active(person=person, active=active)
    audit(actor=actor, action="person.enabled" if active else "person.disabled", target=person.email)
    return person


def reset_password(*, actor: Person, person: Person, password: str) -> Person:
    """Set a new password for a person (rules checked); their sessions end."""
    people.set_password(person=person, password=password)
    audit(actor=actor, action="person.password_reset", target=person.email)
    return person


def rosters() -> dict[str, list[RoleMembership]]:
    """Return each response role's roster: primary first, then backups by rank."""

    result: dict[str, list[RoleMembership]] = {role.value: [] for role in ResponseRole}
    rows = db.session.scalars(
        select(RoleMembership).join(Person).order_by(RoleMembership.role, RoleMembership.is_backup, RoleMembership.rank, Person.name)
    )
    for membership in rows:
        result.setdefault(membership.role, []).append(membership)
    return result


def _role_specs(person: Person) -> list[str]:
    return sorted(f"{m.role}:backup" if m.is_backup else m.role for m in person.roles)


def _next_rank(role: str) -> int:
    highest = db.session.scalar(select(func.max(RoleMembership.rank)).where(RoleMembership.role == role))
    return (highest or 0) + 1


# ---------------------------------------------------------------- API tokens


def list_tokens() -> list[ApiToken]:
    """Return every API token, live ones first."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())))


def create_token(*, actor: Person, person: Person, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create an API token for a person; the secret is returned once."""
    if len(name or "") > 100:
        raise InvalidInput("The name can be at most 100 characters.", field="name")
    if not person.active:
        raise Conflict(f"{person.name} is disabled: enable them before creating a token.", field="person")
    token, secret = people.create_token(person=person, name=name or "", scope=scope)
    audit(actor=actor, action="token.created", target=person.email, data={"token": token.id, "name": token.name, "scope": scope})
    return token, secret


def revoke_token(*, actor: Person, token_id: int) -> ApiToken:
    """Revoke an API token."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no such API token.", field="token")
    if token.revoked_at is not None:
        raise Conflict("This token was already revoked.", field="token")
    people.revoke_token(token_id=token_id)
    audit(actor=actor, action="token.revoked", target=token.person.email, data={"token": token.id, "name": token.name})
    return token


# ---------------------------------------------------------------- spokespeople and the library


def authorise_spokesperson(
    *, actor: Person | None, person: Person, platform: str, trained_at: datetime | None, actor_label: str = ""
) -> SpokespersonAuthorisation:
    """Authorise a person to publish on a platform, and audit it."""
    authorisation = statements.authorise_spokesperson(person=person, platform=platform, trained_at=trained_at, granted_by=actor)
    audit(
        actor=actor, actor_label=actor_label, action="spokesperson.authorised", target=person.email,
        data={"platform": authorisation.platform, "trained_at": trained_at.isoformat() if trained_at else None},
    )
    return authorisation


def record_spokesperson_training(
    *, actor: Person | None, authorisation_id: int, trained_at: datetime, actor_label: str = ""
) -> SpokespersonAuthorisation:
    """Record a spokesperson's training date, and audit it."""
    authorisation = statements.record_training(authorisation_id=authorisation_id, trained_at=trained_at)
    audit(
        actor=actor, actor_label=actor_label, action="spokesperson.trained", target=authorisation.person.email,
        data={"platform": authorisation.platform, "trained_at": trained_at.isoformat()},
    )
    return authorisation


def revoke_spokesperson(*, actor: Person | None, authorisation_id: int, actor_label: str = "") -> SpokespersonAuthorisation:
    """Withdraw a spokesperson authorisation, and audit it."""
    authorisation = statements.revoke_spokesperson(authorisation_id=authorisation_id)
    audit(
        actor=actor, actor_label=actor_label, action="spokesperson.revoked", target=authorisation.person.email,
        data={"platform": authorisation.platform},
    )
    return authorisation


def add_holding_statement(*, actor: Person, title: str, body: str, platform: str) -> HoldingStatement:
    """Add approved wording to the library, and audit it."""
    entry = statements.add_holding_statement(title=title, body=body, platform=platform, approved_by=actor)
    audit(actor=actor, action="holding_statement.added", target=entry.title, data={"id": entry.id, "platform": entry.platform})
    return entry


def retire_holding_statement(*, actor: Person, holding_statement_id: int) -> HoldingStatement:
    """Retire library wording, and audit it."""
    entry = statements.retire_holding_statement(holding_statement_id=holding_statement_id)
    audit(actor=actor, action="holding_statement.retired", target=entry.title, data={"id": entry.id})
    return entry
