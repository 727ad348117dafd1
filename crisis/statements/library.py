"""Spokesperson authorisations and the holding-statement library."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crisis import clock
from crisis.db.keyset import after_key
from crisis.enums import Permission
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.extensions import db
from crisis.people.models import Person
from crisis.permissions import has_permission
from crisis.statements.checks import ANY_PLATFORM, MAX_PLATFORM, clean_body, clean_platform
from crisis.statements.models import (
    HoldingStatement,
    SpokespersonAuthorisation,
)
from crisis.training.service import record_spokesperson_training


def authorise_spokesperson(
    *, person: Person, platform: str, trained_at: datetime | None, granted_by: Person | None
) -> SpokespersonAuthorisation:
    """Authorise a person to publish on a platform ("*" for all); they must be trained to publish."""
    platform = ANY_PLATFORM if platform.strip() == ANY_PLATFORM else clean_platform(platform)
    existing = db.session.scalar(
        select(SpokespersonAuthorisation).where(
            SpokespersonAuthorisation.person_id == person.id,
            SpokespersonAuthorisation.platform == platform,
            SpokespersonAuthorisation.revoked_at.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(f"{person.name} is already authorised for {platform}.", field="platform")
    if trained_at is not None and trained_at > clock.now():
        raise InvalidInput("The training date cannot be in the future.", field="trained_at")
    authorisation = SpokespersonAuthorisation(
        person_id=person.id, platform=platform, trained_at=trained_at,
        granted_by_id=granted_by.id if granted_by else None, granted_at=clock.now(),
    )
    db.session.add(authorisation)
    db.session.flush()
    if trained_at is not None:
        record_spokesperson_training(person=person, trained_at=trained_at, recorded_by=granted_by)
    return authorisation


def record_training(*, authorisation_id: int, trained_at: datetime) -> SpokespersonAuthorisation:
    """Record when an authorised spokesperson was trained; from then on they may publish."""
    authorisation = db.session.get(SpokespersonAuthorisation, authorisation_id)
    if authorisation is None:
        raise NotFound("There is no such spokesperson authorisation.", field="authorisation")
    if authorisation.revoked_at is not None:
        raise Conflict("This authorisation was revoked: authorise the person again.", field="authorisation")
    if trained_at > clock.now():
        raise InvalidInput("The training date cannot be in the future.", field="trained_at")
    authorisation.trained_at = trained_at
    record_spokesperson_training(person=authorisation.person, trained_at=trained_at, recorded_by=None)
    return authorisation


def revoke_spokesperson(*, authorisation_id: int) -> SpokespersonAuthorisation:
    """Withdraw a spokesperson authorisation."""
    authorisation = db.session.get(SpokespersonAuthorisation, authorisation_id)
    if authorisation is None:
        raise NotFound("There is no such spokesperson authorisation.", field="authorisation")
    if authorisation.revoked_at is not None:
        raise Conflict("This authorisation was already revoked.", field="authorisation")
    authorisation.revoked_at = clock.now()
    return authorisation


def list_spokespeople(*, include_revoked: bool = False) -> list[SpokespersonAuthorisation]:
    """Return spokesperson authorisations, live ones first."""
    query = select(SpokespersonAuthorisation).order_by(
        SpokespersonAuthorisation.revoked_at.is_not(None), SpokespersonAuthorisation.platform, SpokespersonAuthorisation.id
    )
    if not include_revoked:
        query = query.where(SpokespersonAuthorisation.revoked_at.is_(None))
    return list(db.session.scalars(query))


def add_holding_statement(*, title: str, body: str, platform: str, approved_by: Person) -> HoldingStatement:
    """Add approved wording to the library; the approver must hold the 'approve' permission."""
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput("Give a title of 1 to 200 characters.", field="title")
    body = clean_body(body)
    platform = (platform or "").strip()
    if len(platform) > MAX_PLATFORM:
        raise InvalidInput(f"The platform can be at most {MAX_PLATFORM} characters.", field="platform")
    if not has_permission(approved_by, Permission.APPROVE):
        raise Forbidden("Only a person with the approve permission can approve library wording.")
    now = clock.now()
    entry = HoldingStatement(
        title=title, body=body, platform=platform, approved_by_id=approved_by.id, approved_at=now,
        created_by_id=approved_by.id, created_at=now,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def retire_holding_statement(*, holding_statement_id: int) -> HoldingStatement:
    """Take wording out of the library (statements drafted from it keep their text)."""
    entry = db.session.get(HoldingStatement, holding_statement_id)
    if entry is None:
        raise NotFound("There is no such wording in the library.", field="holding_statement")
    if entry.retired_at is not None:
        raise Conflict("This wording was already retired from the library.", field="holding_statement")
    entry.retired_at = clock.now()
    return entry


def list_holding_statements(
    *, include_retired: bool = False, limit: int | None = None, after: Sequence[Any] | None = None
) -> list[HoldingStatement]:
    """Return the library, newest first (optionally only entries after the sort key
    (approved_at, id) of the last one seen)."""
    query = (select(HoldingStatement).order_by(HoldingStatement.approved_at.desc(), HoldingStatement.id.desc())
             .limit(limit))
    keyset = after_key((HoldingStatement.approved_at, HoldingStatement.id), after, descending=True)
    if keyset is not None:
        query = query.where(keyset)
    if not include_retired:
        query = query.where(HoldingStatement.retired_at.is_(None))
    return list(db.session.scalars(query))
