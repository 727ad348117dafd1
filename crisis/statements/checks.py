"""Statement limits, default approvers and input checks; each refusal names its field."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from crisis.enums import ResponseRole, Severity
from crisis.errors import InvalidInput
from crisis.people.models import Person
from crisis.statements.models import (
    ApprovalStatus,
    Statement,
    StatementStatus,
)

MAX_BODY = 10_000
MAX_PLATFORM = 50
ANY_PLATFORM = "*"

# Who signs off a statement whose step names no approvers.
DEFAULT_APPROVERS: dict[str, tuple[str, ...]] = {
    Severity.SEV1.value: (ResponseRole.LEGAL.value, ResponseRole.MARKETING.value),
    Severity.SEV2.value: (ResponseRole.LEGAL.value, ResponseRole.MARKETING.value),
    Severity.SEV3.value: (ResponseRole.MARKETING.value,),
    Severity.SEV4.value: (ResponseRole.MARKETING.value,),
}

# How long approvers have before the approval escalates, by severity.
APPROVAL_DUE: dict[str, timedelta] = {
    Severity.SEV1.value: timedelta(minutes=15),
    Severity.SEV2.value: timedelta(minutes=30),
    Severity.SEV3.value: timedelta(hours=2),
    Severity.SEV4.value: timedelta(hours=4),
}

EDITABLE = (
    StatementStatus.DRAFT.value,
    StatementStatus.IN_REVIEW.value,
    StatementStatus.APPROVED.value,
    StatementStatus.REJECTED.value,
)


def statement_name(statement: Statement) -> str:
    """Name a statement in a message: its platform and the step it is for, never its number."""
    step = statement.incident.step(statement.step_key) if statement.step_key else None
    return f"the {statement.platform} statement" + (f" for “{step.title}”" if step is not None else "")


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("Write the wording of the statement.", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"The wording can be at most {MAX_BODY} characters.", field="body")
    return body


def clean_platform(platform: str) -> str:
    platform = (platform or "").strip()
    if not platform:
        raise InvalidInput("Name the platform the statement is for (for example x, instagram, facebook, website).", field="platform")
    if len(platform) > MAX_PLATFORM or platform == ANY_PLATFORM:
        raise InvalidInput(f"Name one platform, in at most {MAX_PLATFORM} characters.", field="platform")
    return platform


def clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise InvalidInput("Give the address of the live post, starting with https:// or http://.", field="url")
    return url


def not_in_review(statement: Statement) -> str:
    status = statement.status.replace("_", " ")
    return f"{capitalised(statement_name(statement))} is {status}, not in review: there is nothing to decide."


def not_an_approver(statement: Statement, actor: Person, role: str | None) -> str:
    waiting = [a.role for a in statement.approvals if a.status == ApprovalStatus.PENDING.value]
    if role is not None and role not in waiting:
        return (f"{capitalised(statement_name(statement))} waits for no {role} approval "
                f"(it waits for {' and '.join(waiting) or 'nobody'}).")
    return (
        f"{actor.name} holds none of the approver roles {statement_name(statement)} waits for "
        f"({' and '.join(waiting) or 'none'})."
    )
