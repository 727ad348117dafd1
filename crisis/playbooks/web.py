"""Web pages: the playbook list, one playbook (steps, due times, escalation), and sync."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markdown_it import MarkdownIt
from markupsafe import Markup

from crisis.admin.audit import audit
from crisis.extensions import db
from crisis.playbooks import service
from crisis.playbooks.definition import SEVERITIES
from crisis.playbooks.durations import format_duration
from crisis.web.access import permission_required

bp = Blueprint("playbooks", __name__)

_ALLOWED_LINK_SCHEMES = ("http:", "https:", "mailto:")
# html=False escapes raw HTML; links and images may only point at http(s) or mailto.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_markdown.validateLink = lambda url: url.strip().lower().startswith(_ALLOWED_LINK_SCHEMES)


def render_guidance(text: str | None) -> Markup:
    """Render playbook Markdown safely: no raw HTML, links only to http, https and mailto."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - escaped by markdown-it (html=False)


@bp.route("/playbooks")
@permission_required("view")
def list_playbooks():
    versions = service.list_playbooks()
    rows = [(version, service.definition_of(version)) for version in versions]
    return render_template("playbooks/list.html", rows=rows)


@bp.route("/playbooks/<key>")
@permission_required("view")
def detail(key: str):
    number = request.args.get("version", type=int)
    version = service.get_playbook_version(key, version=number)
    playbook = service.definition_of(version)
    return render_template(
        "playbooks/detail.html",
        version=version,
        playbook=playbook,
        versions=service.list_versions(key),
        severities=SEVERITIES,
        fmt=format_duration,
        guidance={step.key: render_guidance(step.guidance) for step in playbook.steps},
        description=render_guidance(playbook.description),
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
