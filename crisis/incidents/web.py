"""Web pages for incidents: the list, the declare form, the incident page and its actions, my steps."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from crisis.enums import SEVERITIES, Applicability, Permission, StepStatus
from crisis.errors import DomainError, InvalidInput
from crisis.escalation.targets import next_levels
from crisis.extensions import db
from crisis.incidents import service
from crisis.incidents.editing import edit_incident
from crisis.incidents.forms import DeclareForm, parse_links
from crisis.live.stamps import incident_stamp, steps_stamp
from crisis.permissions import has_permission, is_lead, pending_roles
from crisis.playbooks.service import definition_of, list_playbooks
from crisis.statements.waiting import approvals_waiting_on
from crisis.web.access import permission_required

bp = Blueprint("incidents", __name__)

STEP_ACTIONS = ("acknowledge", "complete", "skip", "block", "unblock", "assign")


@bp.route("/incidents")
@permission_required("view")
def list_incidents():
    status = request.args.get("status", "open")
    severity = request.args.get("severity", "")
    mine = request.args.get("mine") == "1"
    incidents = service.list_incidents(
        status=status if status in ("open", "closed", "all") else "open",
        severity=severity if severity in SEVERITIES else None,
        owner=current_user if mine else None,
    )
    late = service.late_counts([i.id for i in incidents])
    return render_template(
        "incidents/list.html", incidents=incidents, late=late, status=status, severity=severity, mine=mine,
        severities=SEVERITIES,
    )


def _declare_form() -> tuple[DeclareForm, list[dict]]:
    form = DeclareForm()
    versions = list_playbooks()
    form.playbook.choices = [SelectChoice(v.key, v.title) for v in versions]
    form.triage_owner.choices = [SelectChoice("", "Whoever is on the triage roster")] + [
        SelectChoice(p.email, f"{p.name} ({p.email})") for p in service.assignable_people()
    ]
    if request.method == "GET" and request.args.get("playbook") in {v.key for v in versions}:
        form.playbook.data = request.args["playbook"]
    picker = []
    for version in versions:
        playbook = definition_of(version)
        text = " ".join(playbook.description.split())
        description = text.split(". ")[0].rstrip(".") + "." if text else ""
        picker.append({"key": version.key, "title": version.title, "description": description,
                       "severity": playbook.default_severity})
    return form, picker


@bp.route("/incidents/new", methods=["GET", "POST"])
@permission_required("declare")
def new_incident():
    form, picker = _declare_form()
    if form.validate_on_submit():
        try:
            declared = service.declare_incident(
                playbook_key=form.playbook.data,
                title=form.title.data,
                severity=form.severity.data or None,
                summary=form.summary.data or "",
                declared_by=current_user._get_current_object(),
                triage_owner_email=form.triage_owner.data or None,
                links=parse_links(form.links.data or ""),
                is_drill=form.is_drill.data,
            )
        except InvalidInput as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"{declared.ref} declared. The first steps have started.", "success")
            for warning in declared.warnings:
                flash(warning, "warning")
            return redirect(url_for("incidents.detail", ref=declared.ref))
    status = 422 if request.method == "POST" else 200
    return render_template("incidents/new.html", form=form, picker=picker, severities=SEVERITIES), status


def _field_error(form: DeclareForm, error: DomainError) -> None:
    name = (error.field or "").split(".")[0]
    name = {"answers": "playbook"}.get(name, name)
    field = getattr(form, name, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("/incidents/<ref>")
@permission_required("view")
def detail(ref):
    return _render_detail(ref)


def _render_detail(ref: str, *, edit: dict | None = None, status: int = 200):
    # The stamp is read before the page: a change landing in between makes the next poll differ.
    stamp = incident_stamp(ref=ref)
    context = detail_context(ref)
    context["edit"] = edit or {"values": _edit_values(context["incident"]), "errors": {}}
    return render_template("incidents/detail.html", live_stamp=stamp, **context), status


def detail_context(ref: str, *, actions: bool = True) -> dict:
    """What the incident page shows; without `actions` only what any viewer sees (shared renders)."""
    incident = service.get_incident(ref)
    playbook = service.playbook_of(incident)
    person = current_user._get_current_object()
    steps = [s for s in incident.steps if s.applicability != Applicability.EXCLUDED]
    excluded = [s for s in incident.steps if s.applicability == Applicability.EXCLUDED]
    can_respond = actions and has_permission(person, Permission.RESPOND)
    people = service.assignable_people() if can_respond else []
    return dict(
        incident=incident,
        playbook=playbook,
        steps=steps,
        excluded=excluded,
        guidance={s.key: s for s in playbook.steps},
        warnings=service.incident_warnings(incident),
        events=service.recent_events(incident),
        can_respond=can_respond,
        can_manage=can_respond and service.can_manage_incident(person, incident),
        is_lead=can_respond and is_lead(person, incident),
        can_act={s.key: can_respond and service.can_act_on_step(person, incident, s) for s in incident.steps},
        transitions=service.TRANSITIONS[incident.status],
        people=people,
        handover=service.handover_candidates(steps, people) if can_respond else {},
        next_levels=next_levels(steps),
        statuses=StepStatus,
    )


def _edit_values(incident) -> dict:
    links = "\n".join(f"{link.platform} {link.url}" for link in incident.links)
    return {"title": incident.title, "summary": incident.summary or "", "links": links}


@bp.route("/incidents/<ref>/edit", methods=["POST"])
@permission_required("respond")
def edit(ref):
    incident = service.get_incident(ref)
    values = {name: request.form.get(name, "") for name in ("title", "summary", "links")}
    try:
        changed = edit_incident(
            incident=incident, actor=current_user._get_current_object(), title=values["title"],
            summary=values["summary"], links=parse_links(values["links"]),
        )
    except InvalidInput as error:
        # Re-shown with what was typed and the reason beside its field.
        db.session.rollback()
        field = (error.field or "").split(".")[0]
        field = field if field in values else "title"
        return _render_detail(
            ref, edit={"values": values, "errors": {field: error.message}, "open": True},
            status=422,
        )
    db.session.commit()
    names = {"title": "title", "summary": "summary", "links": "source links"}
    if changed:
        flash("Saved the new " + " and ".join(names[name] for name in changed) + ". The timeline shows the change.",
              "success")
    else:
        flash("Nothing was changed.", "info")
    return redirect(url_for("incidents.detail", ref=ref))


@bp.route("/incidents/<ref>/steps/<key>/<action>", methods=["POST"])
@permission_required("respond")
def step_action(ref, key, action):
    if action not in STEP_ACTIONS:
        abort(404)
    incident = service.get_incident(ref)
    actor = current_user._get_current_object()
    form = request.form
    if action == "acknowledge":
        step = service.acknowledge_step(incident=incident, step_key=key, actor=actor)
        message = f"Acknowledged “{step.title}”."
    elif action == "complete":
        step = service.complete_step(incident=incident, step_key=key, actor=actor, note=form.get("note", ""), via="web")
        message = f"Completed “{step.title}”."
    elif action == "skip":
        step = service.skip_step(incident=incident, step_key=key, actor=actor, reason=form.get("reason", ""))
        message = f"Skipped “{step.title}”."
    elif action == "block":
        step = service.block_step(incident=incident, step_key=key, actor=actor, reason=form.get("reason", ""))
        message = f"Marked “{step.title}” blocked."
    elif action == "unblock":
        step = service.unblock_step(incident=incident, step_key=key, actor=actor, reason=form.get("reason", ""))
        message = f"Unblocked “{step.title}”."
    else:
        step = service.assign_step(incident=incident, step_key=key, actor=actor, owner_email=form.get("owner", ""))
        message = f"Handed “{step.title}” to {step.owner.name}."
    db.session.commit()
    flash(message, "success")
    return redirect(_back(ref))


def _back(ref: str) -> str:
    """Return to where the action was taken (the incident page or My steps), same site only."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("incidents.detail", ref=ref)


@bp.route("/incidents/<ref>/change", methods=["POST"])
@permission_required("respond")
def change(ref):
    form = request.form
    service.change_incident(
        incident=service.get_incident(ref),
        actor=current_user._get_current_object(),
        severity=form.get("severity") or None,
        status=form.get("status") or None,
        triage_owner_email=form.get("triage_owner") or None,
        force_reason=form.get("force_reason") or None,
    )
    db.session.commit()
    flash("Incident updated.", "success")
    return redirect(url_for("incidents.detail", ref=ref))


@bp.route("/incidents/<ref>/triage", methods=["POST"])
@permission_required("respond")
def triage(ref):
    incident = service.get_incident(ref)
    answers = {
        name.removeprefix("answer-"): value
        for name, value in request.form.items()
        if name.startswith("answer-") and value
    }
    service.record_triage_answers(incident=incident, actor=current_user._get_current_object(), answers=answers)
    db.session.commit()
    flash("Triage answers recorded; the plan is updated.", "success")
    return redirect(url_for("incidents.detail", ref=ref))


@bp.route("/incidents/<ref>/notes", methods=["POST"])
@permission_required("respond")
def add_note(ref):
    service.add_note(
        incident=service.get_incident(ref), actor=current_user._get_current_object(), text=request.form.get("text", "")
    )
    db.session.commit()
    flash("Note added to the timeline.", "success")
    return redirect(url_for("incidents.detail", ref=ref) + "#timeline")


@bp.route("/my-steps")
@permission_required(None)
def my_steps():
    stamp = steps_stamp(person_id=current_user.id)
    return render_template("incidents/my_steps.html", live_stamp=stamp, **my_steps_context())


def my_steps_context() -> dict:
    person = current_user._get_current_object()
    steps = service.steps_for(person)
    running = [s for s in steps if s.status in service.RUNNING]
    coming = [s for s in steps if s.status not in service.RUNNING]
    publishing = {s.id for s in running if s.key in service.publishing_step_keys(s.incident)}
    return {
        "running": running, "coming": coming, "next_levels": next_levels(running),
        "approvals": approvals_waiting_on(person), "pending_roles": pending_roles, "publishing": publishing,
    }
