"""JSON API for public statements: draft, edit, submit, approve or send back, publish."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crisis.api import api_route, current_actor, parse_body
from crisis.api.paging import QUERY_DOCS, page_from_request
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.incidents.service import get_incident
from crisis.inputs import StoredId
from crisis.statements import service
from crisis.statements.models import Statement
from crisis.statements.schemas import (
    HoldingStatementListOut,
    HoldingStatementOut,
    StatementListOut,
    StatementOut,
)


class StatementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=50, description="where it will be posted: x, instagram, website ...")
    body: str | None = Field(default=None, max_length=10_000, description="the wording; omit to fill the step's template")
    step: str | None = Field(default=None, max_length=64, description="the playbook step it is drafted for")
    holding_statement: StoredId | None = Field(default=None, description="draft from this library entry")
    submit: bool = Field(
        default=True, description="ask the approvers at once (the contract flow: draft, then approve); false keeps a draft"
    )


class StatementEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str | None = Field(default=None, max_length=10_000)
    platform: str | None = Field(default=None, min_length=1, max_length=50)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, description="approve for this approver role only")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    role: str | None = None


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="the address of the live post")


def _incident(ref: str) -> Incident:

    return get_incident(ref)


def _statement(ref: str, statement_id: int) -> Statement:
    return service.get_statement(incident=_incident(ref), statement_id=statement_id)


@api_route(
    "/incidents/<ref>/statements", summary="List an incident's public statements", permission="view",
    response=StatementListOut, tag="statements", query=QUERY_DOCS,
)
def list_statements(ref: str):
    page = page_from_request("statements", int)
    statements, next_cursor = page.cut(service.list_statements(incident=_incident(ref), limit=page.fetch, after=page.after),
                                       key=lambda statement: (statement.id,))
    return StatementListOut(statements=[StatementOut.of(s) for s in statements], next_cursor=next_cursor)


@api_route(
    "/incidents/<ref>/statements", method="POST", summary="Draft a public statement (blank, from a step template or the library)",
    permission="respond", body=StatementIn, response=StatementOut, status=201, tag="statements",
)
def draft_statement(ref: str):
    data = parse_body(StatementIn)
    statement = service.draft_statement(
        incident=_incident(ref), actor=current_actor(), platform=data.platform, body=data.body,
        step_key=data.step, holding_statement_id=data.holding_statement,
    )
    if data.submit:
        service.submit_statement(statement=statement, actor=current_actor())
    db.session.commit()
    return StatementOut.of(statement), 201


@api_route(
    "/incidents/<ref>/statements/<int:statement_id>", summary="One statement with its approvals and versions",
    permission="view", response=StatementOut, tag="statements",
)
def get_statement(ref: str, statement_id: int):
    return StatementOut.of(_statement(ref, statement_id))


@api_route(
    "/incidents/<ref>/statements/<int:statement_id>", method="PATCH",
    summary="Edit a statement (a new version; resets approvals given so far)", permission="respond",
    body=StatementEditIn, response=StatementOut, tag="statements",
)
def edit_statement(ref: str, statement_id: int):
    data = parse_body(StatementEditIn)
    statement = service.edit_statement(
        statement=_statement(ref, statement_id), actor=current_actor(), body=data.body, platform=data.platform
    )
    db.session.commit()
    return StatementOut.of(statement)


@api_route(
    "/incidents/<ref>/statements/<int:statement_id>/submit", method="POST",
    summary="Submit a draft for approval", permission="respond", response=StatementOut, tag="statements",
)
def submit_statement(ref: str, statement_id: int):
    statement = service.submit_statement(statement=_statement(ref, statement_id), actor=current_actor())
    db.session.commit()
    return StatementOut.of(statement)


@api_route(
    "/incidents/<ref>/statements/<int:statement_id>/approve", method="POST",
    summary="Approve the current version for the approver roles you hold", permission="approve",
    body=ApproveIn, response=StatementOut, tag="statements",
)
def approve_statement(ref: str, statement_id: int):
    data = parse_body(ApproveIn)
    statement = service.approve_statement(statement=_statement(ref, statement_id), actor=current_actor(), role=data.role)
    db.session.commit()
    return StatementOut.of(statement)


@api_route(
    "/incidents/<ref>/statements/<int:statement_id>/reject", method="POST",
    summary="Send a statement back with a reason", permission="approve", body=RejectIn,
    response=StatementOut, tag="statements",
)
def reject_statement(ref: str, statement_id: int):
    data = parse_body(RejectIn)
    statement = service.reject_statement(
        statement=_statement(ref, statement_id), actor=current_actor(), reason=data.reason, role=data.role
    )
    db.session.commit()
    return StatementOut.of(statement)


@api_route(
    "/incidents/<ref>/statements/<int:statement_id>/publish", method="POST",
    summary="Mark an approved statement published (authorised spokespeople only)", permission="publish",
    body=PublishIn, response=StatementOut, tag="statements",
)
def publish_statement(ref: str, statement_id: int):
    data = parse_body(PublishIn)
    statement = service.publish_statement(statement=_statement(ref, statement_id), actor=current_actor(), url=data.url)
    db.session.commit()
    return StatementOut.of(statement)


@api_route(
    "/holding-statements", summary="The holding-statement library (approved reusable wording)",
    permission="view", response=HoldingStatementListOut, tag="statements", query=QUERY_DOCS,
)
def list_holding_statements():
    page = page_from_request("holding-statements", datetime, int)
    entries, next_cursor = page.cut(service.list_holding_statements(limit=page.fetch, after=page.after),
                                    key=lambda entry: (entry.approved_at, entry.id))
    return HoldingStatementListOut(
        holding_statements=[HoldingStatementOut.of(entry) for entry in entries], next_cursor=next_cursor
    )
