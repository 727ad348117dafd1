"""The policy page: read and acknowledge the version in force; admins publish and see who has not."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis.enums import Permission
from crisis.permissions import has_permission
from crisis.policy import service
from crisis.web.access import permission_required
from crisis.web.forms import commit_form_action

bp = Blueprint("policy", __name__)


@bp.route("/policy", endpoint="page")
@permission_required(None)
def page():
    current = service.current_policy()
    is_admin = has_permission(current_user, Permission.ADMIN)
    return render_template(
        "policy/page.html", policy=current,
        acknowledged=service.acknowledgement_of(person=current_user, version=current) if current else None,
        missing=service.not_acknowledged(version=current) if current and is_admin else [],
        is_admin=is_admin,
    )


@bp.route("/policy/acknowledge", methods=["POST"])
@permission_required(None)
def acknowledge():
    try:
        number = int(request.form.get("version", ""))
    except ValueError:
        number = -1
    commit_form_action(lambda: service.acknowledge_policy(person=current_user, number=number),
                       refused="Not recorded", back=url_for("policy.page"))
    flash(f"Thank you: you acknowledged version {number} of the social media policy.", "success")
    return redirect(url_for("policy.page"))


@bp.route("/policy/publish", methods=["POST"])
@permission_required("admin")
def publish():
    version = commit_form_action(lambda: service.publish_policy(body=request.form.get("body", ""), actor=current_user),
                                 refused="Not published", back=url_for("policy.page"))
    flash(f"Version {version.number} published; everyone is asked to acknowledge it.", "success")
    return redirect(url_for("policy.page"))
