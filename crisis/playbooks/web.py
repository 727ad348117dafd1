"""Web pages: the playbook list, one playbook (steps, due times, escalation), and sync."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis.audit import audit
from crisis.extensions import db
from crisis.inputs import parse_id
from crisis.playbooks import service
from crisis.playbooks.definition import SEVERITIES
from crisis.playbooks.durations import format_duration
from crisis.web.access import permission_required
from crisis.web.formatting import markdown

bp = Blueprint("playbooks", __name__)

@bp.route("/playbooks")
@permission_required("view")
def list_playbooks():
    versions = service.list_playbooks()
    rows = [(version, service.definition_of(version)) for version in versions]
    return render_template("playbooks/list.html", rows=rows)


@bp.route("/playbooks/<key>")
@permission_required("view")
def detail(key: str):
    number = parse_id(request.args.get("version"), field="version")
    version = service.get_playbook_version(key, version=number)
    playbook = service.definition_of(version)
    return render_template(
        "playbooks/detail.html",
        version=version,
        playbook=playbook,
        versions=service.list_versions(key),
        severities=SEVERITIES,
        fmt=format_duration,
        guidance={step.key: markdown(step.guidance) for step in playbook.steps},
        description=markdown(playbook.description),
    )


@bp.route("/playbooks/sync", methods=["POST"])
@permission_required("admin")
def sync():
    report = service.sync_playbooks(directory=current_app.config["PLAYBOOKS_DIR"])
    audit(actor=current_user, action="playbooks.synced", data={"summary": report.summary()})
    db.session.commit()
    flash(f"Playbooks synced: {report.summary()}.", "warning" if report.problems else "success")
    for problem in report.problems[:20]:
        flash(str(problem), "error")
    return redirect(url_for("playbooks.list_playbooks"))
