"""Web pages for public statements: the incident's statements, one statement, and its actions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from crisis.enums import Permission
from crisis.errors import DomainError, Forbidden, InvalidInput, NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.incidents.service import get_incident
from crisis.incidents.web import render_detail_page
from crisis.permissions import (
    EDIT_STATEMENT_RULE,
    can_edit_statement,
    has_permission,
    sole_approver_message,
)
from crisis.statements import service
from crisis.statements.checks import statement_name
from crisis.statements.forms import ActionForm, DraftForm, EditForm, PublishForm, RejectForm
from crisis.statements.models import Statement
from crisis.web.access import permission_required
from crisis.web.formatting import localtime
from crisis.web.refused import NO_REFUSAL, WHOLE_FORM, Refused, refusal

bp = Blueprint("statements", __name__)

# Each form's fields by the domain's name for them: a refusal is shown beside the field it is about.
DRAFT_FIELDS = {
    "platform": "platform", "body": "body", "step_key": "step", "step": "step",
    "holding_statement_id": "holding_statement", "holding_statement": "holding_statement",
}
FORM_FIELDS = {
    "edit": {"body": "body", "platform": "platform"}, "reject": {"reason": "reason"}, "publish": {"url": "url"},
    "submit": {}, "approve": {},
}


def statement_panel(incident: Incident, refused: Refused = NO_REFUSAL) -> dict:
    """What templates/statements/_panel.html shows for an incident (statements and the draft form)."""
    form = DraftForm(formdata=None)
    steps = service.statement_steps(incident=incident)
    form.step.choices = [SelectChoice("", "No step (blank statement)")] + [SelectChoice(s.key, s.title) for s in steps]
    # Default to the publishing step that is running now: that is what a draft is most likely for.
    active = {s.key for s in incident.steps if s.status == "active"}
    form.step.data = next((s.key for s in steps if s.publishes and s.key in active), "")
    library = service.list_holding_statements()
    form.holding_statement.choices = [SelectChoice("", "Nothing (template or my own words)")] + [
        SelectChoice(str(h.id), _library_label(h)) for h in library
    ]
    link = incident.links[0] if incident.links else None
    form.platform.data = link.platform if link else ""
    if refused.on("draft"):
        for name in ("platform", "step", "holding_statement", "body"):
            getattr(form, name).data = refused.value("draft", name)
    can_draft = current_user.is_authenticated and has_permission(current_user, Permission.RESPOND) and incident.is_open
    return {"statements": service.list_statements(incident=incident), "form": form, "can_draft": can_draft}


def _library_label(entry) -> str:
    approver = entry.approved_by.name if entry.approved_by else "unknown"
    platform = f" ({entry.platform})" if entry.platform else ""
    return f"{entry.title}{platform} — approved by {approver}, {localtime(entry.approved_at, '%d %b %Y')}"


@bp.app_context_processor
def inject_statement_panel() -> dict:
    return {"statement_panel": statement_panel}


def _statement(ref: str, statement_id: int) -> Statement:
    return service.get_statement(incident=get_incident(ref), statement_id=statement_id)


def _back(statement: Statement):
    return redirect(url_for("statements.detail", ref=statement.incident.ref, statement_id=statement.id))


def _form_refusal(form_id: str, form) -> Refused:
    """The first field a form's own checks refused, as a refusal shown beside that field."""
    name, errors = next(iter(form.errors.items()))
    place = name if hasattr(form, name) and name != "csrf_token" else WHOLE_FORM
    return Refused(form=form_id, field=place, message=errors[0], values=request.form.to_dict())


def _refused_draft(ref: str, refused: Refused, status: int):
    db.session.rollback()
    return render_detail_page(ref, refused=refused, status=status)


def _refused_action(statement: Statement, error: DomainError, form_id: str):
    """Show the statement again with the reason beside the field and what was typed kept."""
    db.session.rollback()
    if isinstance(error, (Forbidden, NotFound)):
        # Nobody is shown a form they may not use: there is no field to stand beside.
        raise error
    refused = refusal(form_id, error, request.form.to_dict(), FORM_FIELDS[form_id])
    return _render_statement(_statement(statement.incident.ref, statement.id), refused=refused, status=error.status)


@bp.route("/incidents/<ref>/statements")
@permission_required("view")
def list_statements(ref):
    incident = get_incident(ref)
    return render_template("statements/list.html", incident=incident)


@bp.route("/incidents/<ref>/statements", methods=["POST"])
@permission_required("respond")
def draft(ref):
    incident = get_incident(ref)
    form = DraftForm()
    form.step.choices = []
    form.holding_statement.choices = []
    if not form.validate_on_submit():
        return _refused_draft(ref, _form_refusal("draft", form), 422)
    holding = form.holding_statement.data or None
    try:
        if holding is not None and not holding.isdigit():
            raise InvalidInput("Choose a library entry from the list.", field="holding_statement")
        statement = service.draft_statement(
            incident=incident, actor=current_user, platform=form.platform.data, body=form.body.data or None,
            step_key=form.step.data or None, holding_statement_id=int(holding) if holding else None,
        )
    except DomainError as error:
        if isinstance(error, (Forbidden, NotFound)):
            raise
        return _refused_draft(ref, refusal("draft", error, request.form.to_dict(), DRAFT_FIELDS), error.status)
    db.session.commit()
    flash(f"Drafted {statement_name(statement)}. Edit it, then submit it for approval.", "success")
    return _back(statement)


def _sole_approver_warning(statement) -> str:
    """What the edit form must say before an approver alone on a roster saves (empty: nothing)."""
    alone = service.roles_only_approved_by(current_user._get_current_object(), statement)
    in_review = statement.status in ("in_review", "approved")
    return sole_approver_message(alone, in_review=in_review) if alone else ""


@bp.route("/incidents/<ref>/statements/<int:statement_id>")
@permission_required("view")
def detail(ref, statement_id):
    return _render_statement(_statement(ref, statement_id))


def _render_statement(statement: Statement, *, refused: Refused = NO_REFUSAL, status: int = 200):
    edit_form = EditForm(formdata=None, obj=statement)
    reject_form, publish_form = RejectForm(formdata=None), PublishForm(formdata=None)
    for form_id, form in (("edit", edit_form), ("reject", reject_form), ("publish", publish_form)):
        if refused.on(form_id):
            for name in FORM_FIELDS[form_id].values():
                getattr(form, name).data = refused.value(form_id, name)
    return render_template(
        "statements/detail.html", statement=statement, incident=statement.incident, edit_form=edit_form,
        reject_form=reject_form, publish_form=publish_form, action_form=ActionForm(formdata=None), refused=refused,
        can_approve=service.can_approve(current_user, statement),
        approves_pending=service.is_pending_approver(current_user, statement),
        is_spokesperson=service.is_spokesperson(current_user, statement.platform),
        approver_roles=service.approver_roles(incident=statement.incident, step_key=statement.step_key),
        unstaffed=service.unstaffed_approver_roles(statement=statement),
        may_edit=can_edit_statement(current_user._get_current_object(), statement),
        sole_approver=_sole_approver_warning(statement),
        edit_rule=EDIT_STATEMENT_RULE.removeprefix("only "),
    ), status


@bp.route("/incidents/<ref>/statements/<int:statement_id>/edit", methods=["POST"])
@permission_required("respond")
def edit(ref, statement_id):
    statement = _statement(ref, statement_id)
    form = EditForm()
    if not form.validate_on_submit():
        return _render_statement(statement, refused=_form_refusal("edit", form), status=422)
    before = statement.status
    try:
        service.edit_statement(statement=statement, actor=current_user, body=form.body.data, platform=form.platform.data)
    except DomainError as error:
        return _refused_action(statement, error, "edit")
    db.session.commit()
    if before in ("in_review", "approved"):
        flash(f"Saved as version {statement.version}; the approvers were asked again.", "warning")
    else:
        flash(f"Saved as version {statement.version}.", "success")
    return _back(statement)


@bp.route("/incidents/<ref>/statements/<int:statement_id>/submit", methods=["POST"])
@permission_required("respond")
def submit(ref, statement_id):
    statement = _statement(ref, statement_id)
    try:
        service.submit_statement(statement=statement, actor=current_user)
    except DomainError as error:
        return _refused_action(statement, error, "submit")
    db.session.commit()
    flash("Submitted for approval by " + ", ".join(a.role for a in statement.approvals) + ".", "success")
    return _back(statement)


@bp.route("/incidents/<ref>/statements/<int:statement_id>/approve", methods=["POST"])
@permission_required("approve")
def approve(ref, statement_id):
    statement = _statement(ref, statement_id)
    try:
        service.approve_statement(statement=statement, actor=current_user)
    except DomainError as error:
        return _refused_action(statement, error, "approve")
    db.session.commit()
    flash("Approved." + (" It is ready to publish." if statement.status == "approved" else ""), "success")
    return _back(statement)


@bp.route("/incidents/<ref>/statements/<int:statement_id>/reject", methods=["POST"])
@permission_required("approve")
def reject(ref, statement_id):
    statement = _statement(ref, statement_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_statement(statement, refused=_form_refusal("reject", form), status=422)
    try:
        service.reject_statement(statement=statement, actor=current_user, reason=form.reason.data)
    except DomainError as error:
        return _refused_action(statement, error, "reject")
    db.session.commit()
    flash("Sent back to the drafter with your reason.", "success")
    return _back(statement)


@bp.route("/incidents/<ref>/statements/<int:statement_id>/publish", methods=["POST"])
@permission_required("publish")
def publish(ref, statement_id):
    statement = _statement(ref, statement_id)
    form = PublishForm()
    if not form.validate_on_submit():
        return _render_statement(statement, refused=_form_refusal("publish", form), status=422)
    try:
        service.publish_statement(statement=statement, actor=current_user, url=form.url.data)
    except DomainError as error:
        return _refused_action(statement, error, "publish")
    db.session.commit()
    flash("Marked published. The record shows who, when and which words.", "success")
    return _back(statement)
