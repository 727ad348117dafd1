"""Public statements: draft, edit (every edit a version), approve or send back, publish.

Flow: draft -> in_review (submit) -> approved (every approver role signed the current
version) -> published (by an authorised, trained spokesperson, with the live URL).
A rejection sends the statement back ("rejected", with the reason); an edit of a rejected
statement returns it to draft. An edit of a statement in review or approved resets every
approval to pending and asks the approvers again (they approve words, not a statement id).

Approvers are the roles the step names in `approval`; a statement drafted for no step, or
for a step that names none, needs DEFAULT_APPROVERS[severity]. An approval not given by
`due_at` escalates on the incident playbook's escalation timings, each level reaching someone
new (see `crisis.escalation.targets`), never the author of the wording under review.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from crisis import clock
from crisis.enums import OPEN_STATUSES, Permission, ResponseRole, Severity, StepStatus
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.escalation.policy import escalation_time, first_escalation_at, level_for
from crisis.escalation.targets import Directory, resolve_level
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.incidents.service import complete_step
from crisis.inputs import fits_id
from crisis.notifications import triggers
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.people.service import role_holders, role_primary
from crisis.permissions import EDIT_STATEMENT_RULE, can_edit_statement
from crisis.playbooks.definition import (
    TEMPLATE_FIELDS,
    Playbook,
    StepDef,
    fold_lines,
    render_template,
)
from crisis.playbooks.service import definition_of
from crisis.statements.models import (
    ApprovalStatus,
    HoldingStatement,
    SpokespersonAuthorisation,
    Statement,
    StatementApproval,
    StatementStatus,
    StatementVersion,
)
from crisis.timeline.service import record
from crisis.training.service import record_spokesperson_training, spokesperson_training_problem

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


# ---------------------------------------------------------------- reading


def get_statement(*, incident: Incident, statement_id: int) -> Statement:
    """Return a statement of this incident, or raise NotFound."""
    statement = db.session.get(Statement, statement_id) if fits_id(statement_id) else None
    if statement is None or statement.incident_id != incident.id:
        raise NotFound(f"incident {incident.ref} has no statement {statement_id}", field="statement")
    return statement


def list_statements(*, incident: Incident) -> list[Statement]:
    """Return an incident's statements, oldest first."""
    return list(
        db.session.scalars(
            select(Statement).where(Statement.incident_id == incident.id).order_by(Statement.id)
        )
    )


def template_values(*, incident: Incident, platform: str = "", spokesperson: Person | None = None) -> dict[str, str]:
    """Return the values for every TEMPLATE_FIELDS placeholder, taken from the incident."""
    link = next((item for item in incident.links if not platform or item.platform == platform), None)
    link = link or (incident.links[0] if incident.links else None)
    values = {
        "incident_ref": incident.ref,
        "incident_title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity,
        "platform": platform or (link.platform if link else ""),
        "link": link.url if link else "",
        "company": current_app.config.get("COMPANY_NAME", ""),
        # Public wording speaks the organisation's time zone, not the reader's.
        "declared_at": incident.declared_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%d %b %Y %H:%M %Z"),
        "triage_owner": incident.triage_owner.name if incident.triage_owner else "",
        "spokesperson": spokesperson.name if spokesperson else "",
    }
    # A field added to TEMPLATE_FIELDS later stays visible as "[field]" until filled here.
    return {name: values.get(name, "") for name in TEMPLATE_FIELDS}


def approver_roles(*, incident: Incident, step_key: str | None) -> tuple[str, ...]:
    """Return the roles that must approve a statement drafted for this step (or none)."""
    step = _step_def(incident, step_key) if step_key else None
    if step is not None and step.approval:
        return tuple(step.approval)
    return DEFAULT_APPROVERS.get(incident.severity, DEFAULT_APPROVERS[Severity.SEV1.value])


def statement_steps(*, incident: Incident) -> list[StepDef]:
    """Return the incident's steps a statement can be drafted for (a template, or publishing)."""
    playbook = _playbook(incident)
    present = {step.key for step in incident.steps}
    return [s for s in playbook.steps if s.key in present and (s.template or s.publishes)]


def unstaffed_approver_roles(*, statement: Statement) -> list[str]:
    """Return the approver roles this statement needs that nobody active holds (it would wait forever)."""
    roles = [a.role for a in statement.approvals] or list(approver_roles(incident=statement.incident, step_key=statement.step_key))
    return [role for role in roles if not role_holders(role)]


def is_spokesperson(person: Person, platform: str) -> bool:
    """Return whether the person may publish on this platform now (authorised, trained, permitted)."""
    if not person.active or not person.can(Permission.PUBLISH):
        return False
    return _live_authorisation(person, platform) is not None and spokesperson_training_problem(person=person) is None


def can_approve(person: Person, statement: Statement) -> bool:
    """Return whether the person may decide at least one pending approval of the statement."""
    return bool(_decidable(person, statement)) and not _wrote_current_version(person, statement)


def is_pending_approver(person: Person, statement: Statement) -> bool:
    """Return whether a pending approval waits on the person (whoever wrote the wording)."""
    return bool(_decidable(person, statement))


def _wrote_current_version(person: Person, statement: Statement) -> bool:
    # Four eyes: whoever wrote the wording under review cannot be the one who signs it off.
    return bool(statement.versions) and statement.versions[-1].edited_by_id == person.id


# ---------------------------------------------------------------- drafting and editing


def draft_statement(
    *,
    incident: Incident,
    actor: Person,
    platform: str,
    body: str | None = None,
    step_key: str | None = None,
    holding_statement_id: int | None = None,
) -> Statement:
    """Draft a statement: from `body`, else from a holding statement, else from the step's template."""
    platform = _clean_platform(platform)
    if not incident.is_open:
        raise Conflict(f"incident {incident.ref} is {incident.status}; statements are closed", field="incident")
    step = None
    if step_key:
        step = _step_def(incident, step_key)
        if step is None or incident.step(step_key) is None:
            raise InvalidInput(f"incident {incident.ref} has no step {step_key!r}", field="step")
    holding = None
    if holding_statement_id is not None:
        holding = db.session.get(HoldingStatement, holding_statement_id) if fits_id(holding_statement_id) else None
        if holding is None or holding.retired_at is not None:
            raise InvalidInput(f"no holding statement {holding_statement_id} in the library", field="holding_statement")
    if body is None or not body.strip():
        source = holding.body if holding else (fold_lines(step.template) if step and step.template else None)
        if source is None:
            raise InvalidInput("body must not be empty (or draft from a step template or the library)", field="body")
        spokesperson = role_primary(ResponseRole.SPOKESPERSON.value)
        body = render_template(source, template_values(incident=incident, platform=platform, spokesperson=spokesperson))
    body = _clean_body(body)
    now = clock.now()
    statement = Statement(
        incident_id=incident.id, step_key=step_key or None, platform=platform, body=body,
        status=StatementStatus.DRAFT.value, version=1, created_by_id=actor.id, created_at=now,
        updated_at=now, holding_statement_id=holding.id if holding else None,
    )
    statement.versions.append(
        StatementVersion(number=1, body=body, platform=platform, edited_by_id=actor.id, edited_at=now)
    )
    db.session.add(statement)
    db.session.flush()
    source_note = f" from library entry “{holding.title}”" if holding else (f" for “{step.title}”" if step else "")
    record(
        incident_id=incident.id, kind="statement.drafted", actor=actor,
        summary=f"Statement #{statement.id} drafted for {platform}{source_note}",
        data={"statement": statement.id, "step": step_key, "platform": platform, "version": 1, "body": body},
    )
    return statement


def edit_statement(*, statement: Statement, actor: Person, body: str | None = None, platform: str | None = None) -> Statement:
    """Save new wording as a new version; any approval given or asked so far is reset."""
    if not can_edit_statement(actor, statement):
        raise Forbidden(f"statement #{statement.id} can be edited by {EDIT_STATEMENT_RULE}", field="statement")
    _lock(statement)
    if statement.status not in EDITABLE:
        raise Conflict(f"statement #{statement.id} is {statement.status} and can no longer be edited", field="statement")
    new_body = statement.body if body is None else _clean_body(body)
    new_platform = statement.platform if platform is None else _clean_platform(platform)
    if new_body == statement.body and new_platform == statement.platform:
        raise InvalidInput("nothing changed: the body and platform are the same as the current version", field="body")
    now = clock.now()
    before = statement.status
    statement.version += 1
    statement.body = new_body
    statement.platform = new_platform
    statement.updated_at = now
    statement.approved_at = None
    statement.versions.append(
        StatementVersion(number=statement.version, body=new_body, platform=new_platform, edited_by_id=actor.id, edited_at=now)
    )
    reset = False
    if before in (StatementStatus.IN_REVIEW.value, StatementStatus.APPROVED.value):
        # Approvers signed off words; new words need their sign-off again.
        _ask_approvals(statement, now=now)
        statement.status = StatementStatus.IN_REVIEW.value
        reset = True
        _tell_approvers(statement)
    elif before == StatementStatus.REJECTED.value:
        statement.status = StatementStatus.DRAFT.value
    summary = f"Statement #{statement.id} edited (version {statement.version})"
    if reset:
        summary += "; approvals reset"
    record(
        incident_id=statement.incident_id, kind="statement.edited", actor=actor, summary=summary,
        data={
            "statement": statement.id, "step": statement.step_key, "version": statement.version,
            "platform": new_platform, "body": new_body, "approvals_reset": reset,
            "before": before, "after": statement.status,
        },
    )
    return statement


def submit_statement(*, statement: Statement, actor: Person) -> Statement:
    """Ask the approvers to review the current version."""
    _lock(statement)
    if statement.status != StatementStatus.DRAFT.value:
        raise Conflict(
            f"statement #{statement.id} is {statement.status}; only a draft can be submitted for review",
            field="statement",
        )
    now = clock.now()
    roles = approver_roles(incident=statement.incident, step_key=statement.step_key)
    existing = {a.role for a in statement.approvals}
    for role in roles:
        if role not in existing:
            statement.approvals.append(StatementApproval(role=role, round=0))
    _ask_approvals(statement, now=now)
    statement.status = StatementStatus.IN_REVIEW.value
    statement.submitted_at = now
    statement.updated_at = now
    record(
        incident_id=statement.incident_id, kind="statement.submitted", actor=actor,
        summary=f"Statement #{statement.id} submitted for approval by {', '.join(roles)}",
        data={"statement": statement.id, "step": statement.step_key, "version": statement.version, "approvers": list(roles)},
    )
    _tell_approvers(statement)
    return statement


def wording_author_id(statement: Statement) -> int | None:
    """Return who wrote the wording under review (the current version's editor, else the drafter)."""
    for version in statement.versions:
        if version.number == statement.version and version.edited_by_id is not None:
            return version.edited_by_id
    return statement.created_by_id


def _tell_approvers(statement: Statement) -> None:
    pending = [a for a in statement.approvals if a.status == ApprovalStatus.PENDING.value]
    triggers.statement_waiting(
        statement=statement, roles=[a.role for a in pending], author_id=wording_author_id(statement),
        round_=max((a.round for a in pending), default=0),
        due_at=min((a.due_at for a in pending if a.due_at is not None), default=None),
    )


# ---------------------------------------------------------------- approving


def approve_statement(*, statement: Statement, actor: Person, role: str | None = None) -> Statement:
    """Approve the current version for every pending approver role the actor holds (or `role`)."""
    _lock(statement)
    if statement.status != StatementStatus.IN_REVIEW.value:
        raise Conflict(_not_in_review(statement), field="statement")
    if not actor.can(Permission.APPROVE):
        raise Forbidden("approving statements needs the 'approve' permission")
    if _wrote_current_version(actor, statement):
        raise Forbidden("You wrote this version of the statement, so another approver must approve it.")
    approvals = _decidable(actor, statement)
    if role is not None:
        approvals = [a for a in approvals if a.role == role]
    if not approvals:
        raise Forbidden(_not_an_approver(statement, actor, role))
    now = clock.now()
    roles = []
    for approval in approvals:
        # Compare-and-set: a concurrent approve or an edit's reset wins, and this one writes nothing.
        claimed = db.session.execute(
            update(StatementApproval)
            .where(
                StatementApproval.id == approval.id,
                StatementApproval.status == ApprovalStatus.PENDING.value,
                StatementApproval.round == approval.round,
            )
            .values(
                status=ApprovalStatus.APPROVED.value, version=statement.version, decided_by_id=actor.id,
                decided_at=now, reason="", next_escalation_at=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise Conflict(f"the {approval.role} approval of statement #{statement.id} was decided meanwhile", field="statement")
        db.session.refresh(approval)
        roles.append(approval.role)
    complete = all(a.status == ApprovalStatus.APPROVED.value for a in statement.approvals)
    if complete:
        statement.status = StatementStatus.APPROVED.value
        statement.approved_at = now
    statement.updated_at = now
    waiting = [a.role for a in statement.approvals if a.status != ApprovalStatus.APPROVED.value]
    summary = f"Statement #{statement.id} approved by {actor.name} for {', '.join(roles)}"
    summary += "; ready to publish" if complete else f"; still waiting for {', '.join(waiting)}"
    record(
        incident_id=statement.incident_id, kind="statement.approved", actor=actor, summary=summary,
        data={
            "statement": statement.id, "step": statement.step_key, "version": statement.version,
            "roles": roles, "fully_approved": complete, "waiting": waiting,
        },
    )
    if complete:
        triggers.statement_approved(
            statement=statement, spokesperson_ids=triggers.live_spokespeople(statement.platform),
            step_owner_ids=_publishing_step_owners(statement), actor_id=actor.id,
        )
    return statement


def _publishing_step_owners(statement: Statement) -> list[int]:
    """Return the owners of the step that publishing this statement completes."""
    incident = statement.incident
    keys = [statement.step_key] if statement.step_key else [s.key for s in _playbook(incident).steps if s.publishes]
    steps = [incident.step(key) for key in keys]
    return [step.owner_id for step in steps if step is not None and step.owner_id is not None
            and step.status in (StepStatus.ACTIVE.value, StepStatus.BLOCKED.value, StepStatus.PENDING.value)]


def reject_statement(*, statement: Statement, actor: Person, reason: str, role: str | None = None) -> Statement:
    """Send a statement back to its drafter with a reason."""
    _lock(statement)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the statement is sent back (reason)", field="reason")
    if len(reason) > 2000:
        raise InvalidInput("reason must be at most 2000 characters", field="reason")
    if statement.status != StatementStatus.IN_REVIEW.value:
        raise Conflict(_not_in_review(statement), field="statement")
    if not actor.can(Permission.APPROVE):
        raise Forbidden("sending statements back needs the 'approve' permission")
    approvals = _decidable(actor, statement)
    if role is not None:
        approvals = [a for a in approvals if a.role == role]
    if not approvals:
        raise Forbidden(_not_an_approver(statement, actor, role))
    now = clock.now()
    claimed = db.session.execute(
        update(Statement)
        .where(Statement.id == statement.id, Statement.status == StatementStatus.IN_REVIEW.value, Statement.version == statement.version)
        .values(status=StatementStatus.REJECTED.value, rejected_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"statement #{statement.id} changed meanwhile; reload and decide again", field="statement")
    for approval in approvals:
        approval.status = ApprovalStatus.REJECTED.value
        approval.version = statement.version
        approval.decided_by_id = actor.id
        approval.decided_at = now
        approval.reason = reason
    for approval in statement.approvals:
        approval.next_escalation_at = None
    db.session.refresh(statement, attribute_names=["status", "rejected_reason", "updated_at"])
    roles = [a.role for a in approvals]
    record(
        incident_id=statement.incident_id, kind="statement.rejected", actor=actor,
        summary=f"Statement #{statement.id} sent back by {actor.name} ({', '.join(roles)}): {reason}",
        data={"statement": statement.id, "step": statement.step_key, "version": statement.version, "roles": roles, "reason": reason},
    )
    triggers.statement_sent_back(statement=statement, author_id=wording_author_id(statement), actor_id=actor.id,
                                 reason=reason)
    return statement


# ---------------------------------------------------------------- publishing


def publish_statement(*, statement: Statement, actor: Person, url: str) -> Statement:
    """Mark an approved statement published at `url`; its publishing step completes itself."""
    _lock(statement)
    url = _clean_url(url)
    if statement.status == StatementStatus.PUBLISHED.value:
        raise Conflict(f"statement #{statement.id} was already published", field="statement")
    if statement.status != StatementStatus.APPROVED.value or not _fully_approved(statement):
        waiting = [a.role for a in statement.approvals if a.status != ApprovalStatus.APPROVED.value]
        detail = f"; waiting for {', '.join(waiting)}" if waiting and statement.status == StatementStatus.IN_REVIEW.value else ""
        raise Forbidden(
            f"statement #{statement.id} is {statement.status.replace('_', ' ')}, not approved{detail}: "
            "nothing goes out in the company's name before it is approved",
            field="statement",
        )
    if _live_authorisation(actor, statement.platform) is not None and (lapsed := spokesperson_training_problem(person=actor)):
        raise Forbidden(lapsed, field="actor")
    if not is_spokesperson(actor, statement.platform):
        raise Forbidden(
            f"{actor.email} is not an authorised, trained spokesperson for {statement.platform}: "
            "only they may publish in the company's name",
            field="actor",
        )
    now = clock.now()
    claimed = db.session.execute(
        update(Statement)
        .where(Statement.id == statement.id, Statement.status == StatementStatus.APPROVED.value, Statement.version == statement.version)
        .values(status=StatementStatus.PUBLISHED.value, published_at=now, published_by_id=actor.id, published_url=url, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(f"statement #{statement.id} changed meanwhile; reload before publishing", field="statement")
    db.session.refresh(statement)
    approvers = sorted({a.decided_by.email for a in statement.approvals if a.decided_by is not None})
    record(
        incident_id=statement.incident_id, kind="statement.published", actor=actor,
        summary=f"Statement #{statement.id} published on {statement.platform} by {actor.name}: {url}",
        data={
            "statement": statement.id, "step": statement.step_key, "version": statement.version,
            "platform": statement.platform, "url": url, "body": statement.body, "approved_by": approvers,
        },
    )
    triggers.statement_published(statement=statement, actor_id=actor.id)
    _complete_publishing_step(statement, actor)
    return statement


def _complete_publishing_step(statement: Statement, actor: Person) -> None:

    incident = statement.incident
    if statement.step_key:
        keys = [statement.step_key]
    else:
        playbook = _playbook(incident)
        keys = [s.key for s in playbook.steps if s.publishes]
    for key in keys:
        step = incident.step(key)
        if step is not None and step.status == StepStatus.ACTIVE.value:
            complete_step(
                incident=incident, step_key=key, actor=actor,
                note=f"Statement #{statement.id} published: {statement.published_url}", via="statement",
            )
            return


# ---------------------------------------------------------------- spokespeople and the library


def authorise_spokesperson(
    *, person: Person, platform: str, trained_at: datetime | None, granted_by: Person | None
) -> SpokespersonAuthorisation:
    """Authorise a person to publish on a platform ("*" for all); they must be trained to publish."""
    platform = ANY_PLATFORM if platform.strip() == ANY_PLATFORM else _clean_platform(platform)
    existing = db.session.scalar(
        select(SpokespersonAuthorisation).where(
            SpokespersonAuthorisation.person_id == person.id,
            SpokespersonAuthorisation.platform == platform,
            SpokespersonAuthorisation.revoked_at.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(f"{person.email} is already authorised for {platform}", field="platform")
    if trained_at is not None and trained_at > clock.now():
        raise InvalidInput("the training date cannot be in the future", field="trained_at")
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
        raise NotFound(f"no spokesperson authorisation {authorisation_id}", field="authorisation")
    if authorisation.revoked_at is not None:
        raise Conflict("this authorisation was revoked; authorise the person again", field="authorisation")
    if trained_at > clock.now():
        raise InvalidInput("the training date cannot be in the future", field="trained_at")
    authorisation.trained_at = trained_at
    record_spokesperson_training(person=authorisation.person, trained_at=trained_at, recorded_by=None)
    return authorisation


def revoke_spokesperson(*, authorisation_id: int) -> SpokespersonAuthorisation:
    """Withdraw a spokesperson authorisation."""
    authorisation = db.session.get(SpokespersonAuthorisation, authorisation_id)
    if authorisation is None:
        raise NotFound(f"no spokesperson authorisation {authorisation_id}", field="authorisation")
    if authorisation.revoked_at is not None:
        raise Conflict("this authorisation was already revoked", field="authorisation")
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
        raise InvalidInput("title must be 1 to 200 characters", field="title")
    body = _clean_body(body)
    platform = (platform or "").strip()
    if len(platform) > MAX_PLATFORM:
        raise InvalidInput(f"platform must be at most {MAX_PLATFORM} characters", field="platform")
    if not approved_by.can(Permission.APPROVE):
        raise Forbidden("only a person with the 'approve' permission can approve library wording")
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
        raise NotFound(f"no holding statement {holding_statement_id}", field="holding_statement")
    if entry.retired_at is not None:
        raise Conflict("this holding statement was already retired", field="holding_statement")
    entry.retired_at = clock.now()
    return entry


def list_holding_statements(*, include_retired: bool = False) -> list[HoldingStatement]:
    """Return the library, newest first."""
    query = select(HoldingStatement).order_by(HoldingStatement.approved_at.desc(), HoldingStatement.id.desc())
    if not include_retired:
        query = query.where(HoldingStatement.retired_at.is_(None))
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- escalation of overdue approvals


def sweep_overdue_approvals(now: datetime | None = None) -> int:
    """Escalate every pending approval whose next escalation is due; return how many levels fired.

    Targets resolve as for steps (crisis.escalation.targets), the approver role standing in for
    the step's role; the author of the wording under review is never a target. Approvals of an
    incident that is resolved or closed stop escalating.
    """
    now = now or clock.now()
    due = db.session.scalars(
        select(StatementApproval)
        .join(Statement)
        .where(
            StatementApproval.next_escalation_at.is_not(None),
            StatementApproval.next_escalation_at <= now,
            StatementApproval.status == ApprovalStatus.PENDING.value,
            Statement.status == StatementStatus.IN_REVIEW.value,
        )
        .order_by(StatementApproval.next_escalation_at, StatementApproval.id)
        .limit(500)
    ).all()
    fired = 0
    directory = Directory()
    for approval in due:
        statement = approval.statement
        incident = statement.incident
        playbook = _playbook(incident)
        policy = playbook.escalation
        seen = approval.escalation_level
        level = seen + 1
        running = incident.status in OPEN_STATUSES
        following = escalation_time(policy, approval.due_at, level + 1) if approval.due_at and running else None
        # Compare-and-set: only the process that moves the level from `seen` writes anything.
        claimed = db.session.execute(
            update(StatementApproval)
            .where(
                StatementApproval.id == approval.id,
                StatementApproval.escalation_level == seen,
                StatementApproval.round == approval.round,
                StatementApproval.status == ApprovalStatus.PENDING.value,
                # The row may have been reread after another sweep's commit: still due?
                StatementApproval.next_escalation_at <= now,
            )
            .values(escalation_level=level if running else seen, next_escalation_at=following)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1 or not running:
            # Lost the claim, or the incident is over: its approvals stop escalating.
            db.session.commit() if claimed == 1 else db.session.rollback()
            continue
        rule = level_for(policy, level)
        reach = resolve_level(
            rule.notify if rule else ("owner", "role_lead"), owner_id=None, triage_owner_id=incident.triage_owner_id,
            role=approval.role, triage_role=playbook.triage_role, reached=set(approval.reached or ()),
            exclude={wording_author_id(statement)} - {None}, directory=directory,
        )
        recipients = reach.people
        approval.reached = sorted(set(approval.reached or ()) | {p.id for p in recipients})
        channels = rule.channels if rule else ("email", "in_app", "webhook")
        subject = f"[{incident.ref}] {approval.role} approval of statement #{statement.id} is overdue"
        body = (
            f"The {approval.role} sign-off of statement #{statement.id} on {incident.ref} "
            f"({incident.title}) was due at {approval.due_at:%H:%M UTC} and is still missing "
            f"(escalation level {level}).\n\n{statement.body}"
        )
        notify(
            recipients=recipients, subject=subject, body=body, incident=incident,
            dedup_key=f"statement-approval:{approval.id}:r{approval.round}:l{level}",
            channels=channels,
            link=f"{current_app.config['BASE_URL'].rstrip('/')}/incidents/{incident.ref}#statement-{statement.id}",
        )
        summary = f"The {approval.role} approval of statement #{statement.id} is overdue; escalation level {level}"
        if reach.nobody_new:
            summary += "; nobody new was left to reach"
        record(
            incident_id=incident.id, kind="statement.escalated", actor_label="scheduler", summary=summary,
            data={
                "statement": statement.id, "step": statement.step_key, "role": approval.role,
                "level": level, "notified": [p.email for p in recipients],
                **({"nobody_new": True} if reach.nobody_new else {}),
            },
            at=now,
        )
        db.session.commit()
        fired += 1
    return fired


# ---------------------------------------------------------------- helpers


def _playbook(incident: Incident) -> Playbook:
    return definition_of(incident.playbook_version)


def _step_def(incident: Incident, step_key: str | None) -> StepDef | None:
    if not step_key:
        return None
    try:
        return _playbook(incident).step(step_key)
    except KeyError:
        return None


def _lock(statement: Statement) -> None:
    """Take the statement's row lock and reread it, so decisions on one statement queue up.

    Two approvers signing at once would otherwise each see the other's role still pending and
    neither would mark the statement approved. SQLite takes its write lock at BEGIN IMMEDIATE.
    """
    db.session.execute(select(Statement.id).where(Statement.id == statement.id).with_for_update())
    db.session.refresh(statement)
    for approval in statement.approvals:
        db.session.refresh(approval)


def _ask_approvals(statement: Statement, *, now: datetime) -> None:
    """Set every approval of the statement to pending with a fresh deadline and escalation clock."""
    incident = statement.incident
    due_at = now + APPROVAL_DUE.get(incident.severity, APPROVAL_DUE[Severity.SEV1.value])
    policy = _playbook(incident).escalation
    for approval in statement.approvals:
        approval.status = ApprovalStatus.PENDING.value
        approval.version = None
        approval.decided_by_id = None
        approval.decided_at = None
        approval.reason = ""
        approval.round += 1
        approval.due_at = due_at
        approval.escalation_level = 0
        approval.reached = []
        approval.next_escalation_at = first_escalation_at(policy, due_at) if policy.levels else due_at


def _decidable(person: Person, statement: Statement) -> list[StatementApproval]:
    if statement.status != StatementStatus.IN_REVIEW.value or not person.can(Permission.APPROVE):
        return []
    # Only holders of the approver role sign off, admins included: sign-off is a role, not a rank.
    return [a for a in statement.approvals if a.status == ApprovalStatus.PENDING.value and person.holds_role(a.role)]


def _fully_approved(statement: Statement) -> bool:
    return bool(statement.approvals) and all(
        a.status == ApprovalStatus.APPROVED.value and a.version == statement.version for a in statement.approvals
    )


def _live_authorisation(person: Person, platform: str) -> SpokespersonAuthorisation | None:
    return db.session.scalar(
        select(SpokespersonAuthorisation).where(
            SpokespersonAuthorisation.person_id == person.id,
            SpokespersonAuthorisation.platform.in_([platform, ANY_PLATFORM]),
            SpokespersonAuthorisation.revoked_at.is_(None),
            SpokespersonAuthorisation.trained_at.is_not(None),
        ).limit(1)
    )


def _not_in_review(statement: Statement) -> str:
    return f"statement #{statement.id} is {statement.status.replace('_', ' ')}, not in review: there is nothing to decide"


def _not_an_approver(statement: Statement, actor: Person, role: str | None) -> str:
    waiting = [a.role for a in statement.approvals if a.status == ApprovalStatus.PENDING.value]
    if role is not None and role not in waiting:
        return f"statement #{statement.id} awaits no {role} approval (waiting for: {', '.join(waiting) or 'nobody'})"
    return (
        f"{actor.email} holds none of the approver roles statement #{statement.id} waits for "
        f"({', '.join(waiting) or 'none'})"
    )


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("body must not be empty", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"body must be at most {MAX_BODY} characters", field="body")
    return body


def _clean_platform(platform: str) -> str:
    platform = (platform or "").strip()
    if not platform:
        raise InvalidInput("platform must not be empty (e.g. x, instagram, facebook, website)", field="platform")
    if len(platform) > MAX_PLATFORM or platform == ANY_PLATFORM:
        raise InvalidInput(f"platform must be a name of at most {MAX_PLATFORM} characters", field="platform")
    return platform


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise InvalidInput("url must be the http(s) address of the live post", field="url")
    return url

