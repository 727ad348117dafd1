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


def clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("body must not be empty", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"body must be at most {MAX_BODY} characters", field="body")
    return body


def clean_platform(platform: str) -> str:
    platform = (platform or "").strip()
    if not platform:
        raise InvalidInput("platform must not be empty (e.g. x, instagram, facebook, website)", field="platform")
    if len(platform) > MAX_PLATFORM or platform == ANY_PLATFORM:
        raise InvalidInput(f"platform must be a name of at most {MAX_PLATFORM} characters", field="platform")
    return platform


def clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise InvalidInput("url must be the http(s) address of the live post", field="url")
    return url


def not_in_review(statement: Statement) -> str:
    return f"statement #{statement.id} is {statement.status.replace('_', ' ')}, not in review: there is nothing to decide"


def not_an_approver(statement: Statement, actor: Person, role: str | None) -> str:
    waiting = [a.role for a in statement.approvals if a.status == ApprovalStatus.PENDING.value]
    if role is not None and role not in waiting:
        return f"statement #{statement.id} awaits no {role} approval (waiting for: {', '.join(waiting) or 'nobody'})"
    return (
        f"{actor.email} holds none of the approver roles statement #{statement.id} waits for "
        f"({', '.join(waiting) or 'none'})"
    )
