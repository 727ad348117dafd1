"""Response models of the statements API: the one place a statement is shaped for the API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from crisis.statements.models import HoldingStatement, Statement


class ApprovalOut(BaseModel):
    role: str
    status: str
    version: int | None
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    due_at: str | None
    escalation_level: int


class VersionOut(BaseModel):
    number: int
    body: str
    platform: str
    edited_by: str | None
    edited_at: str


class StatementOut(BaseModel):
    id: int
    incident: str
    step: str | None
    platform: str
    body: str
    status: str
    version: int
    created_by: str | None
    created_at: str
    updated_at: str
    submitted_at: str | None
    approved_at: str | None
    rejected_reason: str | None
    published_at: str | None
    published_by: str | None
    published_url: str | None
    holding_statement: int | None
    approvals: list[ApprovalOut]
    versions: list[VersionOut]

    @classmethod
    def of(cls, statement: Statement) -> StatementOut:
        return cls(
            id=statement.id,
            incident=statement.incident.ref,
            step=statement.step_key,
            platform=statement.platform,
            body=statement.body,
            status=statement.status,
            version=statement.version,
            created_by=statement.created_by.email if statement.created_by else None,
            created_at=statement.created_at.isoformat(),
            updated_at=statement.updated_at.isoformat(),
            submitted_at=_iso(statement.submitted_at),
            approved_at=_iso(statement.approved_at),
            rejected_reason=statement.rejected_reason or None,
            published_at=_iso(statement.published_at),
            published_by=statement.published_by.email if statement.published_by else None,
            published_url=statement.published_url or None,
            holding_statement=statement.holding_statement_id,
            approvals=[
                ApprovalOut(
                    role=a.role,
                    status=a.status,
                    version=a.version,
                    decided_by=a.decided_by.email if a.decided_by else None,
                    decided_at=_iso(a.decided_at),
                    reason=a.reason or None,
                    due_at=_iso(a.due_at),
                    escalation_level=a.escalation_level,
                )
                for a in statement.approvals
            ],
            versions=[
                VersionOut(
                    number=v.number,
                    body=v.body,
                    platform=v.platform,
                    edited_by=v.edited_by.email if v.edited_by else None,
                    edited_at=v.edited_at.isoformat(),
                )
                for v in statement.versions
            ],
        )


class StatementListOut(BaseModel):
    statements: list[StatementOut]
    next_cursor: str | None = None


class HoldingStatementOut(BaseModel):
    id: int
    title: str
    platform: str
    body: str
    approved_by: str | None
    approved_at: str

    @classmethod
    def of(cls, entry: HoldingStatement) -> HoldingStatementOut:
        return cls(
            id=entry.id, title=entry.title, platform=entry.platform, body=entry.body,
            approved_by=entry.approved_by.email if entry.approved_by else None,
            approved_at=entry.approved_at.isoformat(),
        )


class HoldingStatementListOut(BaseModel):
    holding_statements: list[HoldingStatementOut]
    next_cursor: str | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
