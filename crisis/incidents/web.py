"""Web pages for incidents: the list, the declare form, the incident page and its actions, my steps."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from crisis.enums import SEVERITIES, Applicability, Permission, StepStatus
from crisis.errors import DomainError, Forbidden, InvalidInput, NotFound
from crisis.escalation.targets import next_levels
from crisis.extensions import db
from crisis.incidents import service
from crisis.incidents.editing import edit_incident
from crisis.incidents.forms import DeclareForm, parse_links
from crisis.live.stamps import incident_stamps, steps_stamp
from crisis.permissions import has_permission, is_lead, pending_roles
from crisis.playbooks.service import definition_of, list_playbooks
from crisis.statements.waiting import approvals_waiting_on
from crisis.web.access import permission_required
from crisis.web.refused import NO_REFUSAL, Refused, refusal

bp = Blueprint("incidents", __name__)

STEP_ACTIONS = ("acknowledge", "complete", "skip", "block", "unblock", "assign")
# Each form's fields by the domain's name for them: a refusal is shown beside the field it is about.
STEP_FIELDS = {
    "acknowledge": {}, "complete": {"note": "note"}, "skip": {"reason": "reason"}, "block": {"reason": "reason"},
    "unblock": {}, "assign": {"owner_email": "owner", "owner": "owner"},
}
CHANGE_FIELDS = {
    "severity": "severity", "status": "status", "triage_owner_email": "triage_owner", "triage_owner": "triage_owner",
    "force_reason": "force_reason",
}


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
    return render_detail_page(ref)


def render_detail_page(ref: str, *, edit: dict | None = None, refused: Refused = NO_REFUSAL, status: int = 200):
    """The incident page, optionally with a refused form shown again."""
    # The stamp is read before the page: a change landing in between makes the next poll differ.
    stamp, events_stamp = incident_stamps(ref=ref, kinds=("incident", "events"))
    context = detail_context(ref)
    context["edit"] = edit or {"values": _edit_values(context["incident"]), "errors": {}}
    return render_template("incidents/detail.html", live_stamp=stamp, events_stamp=events_stamp, refused=refused,
                           **context), status


def step_form_id(ref: str, key: str, action: str) -> str:
    """The id of one step action's form, unique across incidents (My steps lists several)."""
    return f"{ref}-{key}-{action}"


def _show_refused(ref: str, error: DomainError, refused: Refused):
    """Show the page the form was on again, with the reason beside the field and what was typed kept."""
    db.session.rollback()
    if isinstance(error, (Forbidden, NotFound)):
        # Nobody is shown a form they may not use or for a step that is not there: no field to stand beside.
        raise error
    if _back(ref) == url_for("incidents.my_steps"):
        context = my_steps_context()
        shown = {step_form_id(s.incident.ref, s.key, "") for s in context["running"]}
        if not any(refused.form.startswith(prefix) for prefix in shown):
            # The step left My steps (done or handed over meanwhile): no row to show the reason in.
            flash(error.message, "error")
            return redirect(url_for("incidents.my_steps"))
        return render_template(
            "incidents/my_steps.html", live_stamp=steps_stamp(person_id=current_user.id), refused=refused, **context,
        ), error.status
    return render_detail_page(ref, refused=refused, status=error.status)


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


def events_context(ref: str) -> dict:
    """What the incident page's list of recent events shows (the same for every viewer)."""
    incident = service.get_incident(ref)
    return {"incident": incident, "events": service.recent_events(incident)}


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
        return render_detail_page(
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
    try:
        message = _act_on_step(incident, key, action, request.form)
    except DomainError as error:
        values = request.form.to_dict()
        refused = refusal(step_form_id(ref, key, action), error, values, STEP_FIELDS[action])
        return _show_refused(ref, error, refused)
    db.session.commit()
    flash(message, "success")
    return redirect(_back(ref))


def _act_on_step(incident, key: str, action: str, form) -> str:
    """Run one step action; return what to tell the person."""
    actor = current_user._get_current_object()
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
    return message


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
    incident = service.get_incident(ref)
    try:
        service.change_incident(
            incident=incident,
            actor=current_user._get_current_object(),
            severity=form.get("severity") or None,
            status=form.get("status") or None,
            triage_owner_email=form.get("triage_owner") or None,
            force_reason=form.get("force_reason") or None,
        )
    except DomainError as error:
        return _show_refused(ref, error, refusal("change", error, form.to_dict(), CHANGE_FIELDS))
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
    try:
        service.record_triage_answers(incident=incident, actor=current_user._get_current_object(), answers=answers)
    except DomainError as error:
        fields = {f"answers.{q.key}": f"answer-{q.key}" for q in service.playbook_of(incident).questions}
        return _show_refused(ref, error, refusal("triage", error, request.form.to_dict(), fields))
    db.session.commit()
    flash("Triage answers recorded; the plan is updated.", "success")
    return redirect(url_for("incidents.detail", ref=ref))


@bp.route("/incidents/<ref>/notes", methods=["POST"])
@permission_required("respond")
def add_note(ref):
    try:
        service.add_note(
            incident=service.find_incident(ref), actor=current_user._get_current_object(),
            text=request.form.get("text", ""),
        )
    except DomainError as error:
        return _show_refused(ref, error, refusal("note", error, request.form.to_dict(), {"text": "text"}))
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
