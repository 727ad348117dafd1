"""The policy page: read and acknowledge the version in force; admins publish and see who has not."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis.enums import Permission
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.permissions import has_permission
from crisis.policy import service
from crisis.web.access import permission_required

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
    try:
        service.acknowledge_policy(person=current_user, number=number)
    except DomainError as error:
        db.session.rollback()
        flash(f"Not recorded: {error.message}", "error")
        return redirect(url_for("policy.page"))
    db.session.commit()
    flash(f"Thank you: you acknowledged version {number} of the social media policy.", "success")
    return redirect(url_for("policy.page"))


@bp.route("/policy/publish", methods=["POST"])
@permission_required("admin")
def publish():
    try:
        version = service.publish_policy(body=request.form.get("body", ""), actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(f"Not published: {error.message}", "error")
        return redirect(url_for("policy.page"))
    db.session.commit()
    flash(f"Version {version.number} published; everyone is asked to acknowledge it.", "success")
    return redirect(url_for("policy.page"))
