"""Drill pages: the scenarios and their runs, starting and ending a drill, the printable report."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis.drills import service
from crisis.drills.models import DrillRun
from crisis.drills.scenarios import scenarios
from crisis.drills.scoring import score_incident
from crisis.enums import Permission
from crisis.extensions import db
from crisis.incidents.service import can_manage_incident, get_incident
from crisis.permissions import has_permission
from crisis.playbooks.service import list_playbooks
from crisis.web.access import permission_required
from crisis.web.formatting import humanize_delta
from crisis.web.forms import commit_form_action

bp = Blueprint("drills", __name__)


@bp.route("/drills", endpoint="index")
@permission_required("view")
def index():
    runs = service.list_runs()
    last: dict[str, DrillRun] = {}
    for run in runs:
        last.setdefault(run.scenario_key, run)
    return render_template(
        "drills/index.html", scenarios=sorted(scenarios().values(), key=lambda s: s.title), runs=runs, last=last,
        scores={run.id: score_incident(incident=run.incident).on_time_share for run in runs if run.ended_at},
        can_start=has_permission(current_user, Permission.DECLARE),
        playbook_titles={version.key: version.title for version in list_playbooks()},
    )


@bp.route("/drills/start", methods=["POST"])
@permission_required("declare")
def start():
    run = commit_form_action(lambda: service.start_drill(scenario_key=request.form.get("scenario", ""), actor=current_user),
                             refused="The drill did not start", back=url_for("drills.index"))
    flash(f"Drill started: {run.scenario_title}. Injects arrive on the timeline at their times.", "success")
    return redirect(url_for("incidents.detail", ref=run.incident.ref))


@bp.route("/incidents/<ref>/drill/end", methods=["POST"])
@permission_required("respond")
def end(ref: str):
    run = commit_form_action(lambda: service.end_drill(incident=get_incident(ref), actor=current_user),
                             refused="The drill did not end", back=url_for("drills.report", ref=ref))
    flash("Drill ended" + (" early" if run.ended_early else "") + ". Here is its score.", "success")
    return redirect(url_for("drills.report", ref=ref))


@bp.route("/incidents/<ref>/drill-report", endpoint="report")
@permission_required("view")
def report(ref: str):
    incident = get_incident(ref)
    run = db.session.scalar(db.select(DrillRun).where(DrillRun.incident_id == incident.id))
    earlier = []
    if run is not None:
        earlier = [
            (other, score_incident(incident=other.incident))
            for other in service.list_runs(scenario_key=run.scenario_key)
            if other.id != run.id and other.ended_at is not None and other.started_at < run.started_at
        ]
    return render_template(
        "drills/report.html", incident=incident, run=run, score=score_incident(incident=incident), earlier=earlier,
        can_end=run is not None and run.ended_at is None and has_permission(current_user, Permission.RESPOND)
        and can_manage_incident(current_user, incident),
    )


@bp.app_template_filter("seconds")
def seconds_phrase(value: int | None) -> str:
    """A number of seconds said the way a person would ('12 min'); a dash when unknown."""
    return "—" if value is None else humanize_delta(timedelta(seconds=value))
