"""GET /health: database reachability and the scheduler's dead-man's switch, as JSON.

Anyone (a load balancer, a monitor) may ask whether the desk is healthy and how old the last
sweep is; which host and process ran that sweep, and the database's error, tell an attacker
about the deployment, so only a signed-in admin or an API token with admin sees them.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from crisis import clock
from crisis.enums import Permission
from crisis.escalation.models import SWEEP_JOB, SchedulerHeartbeat
from crisis.extensions import db
from crisis.people.service import check_token
from crisis.permissions import has_permission
from crisis.web.access import public

bp = Blueprint("health", __name__)

# What an anonymous caller is told; the rest of the document is for admins.
PUBLIC_SCHEDULER_FIELDS = ("status", "seconds_since_last_sweep")


def health_report() -> tuple[dict, bool]:
    """Return the full health document (details included) and whether everything is healthy."""
    report: dict = {"database": "ok", "scheduler": {}}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        beat = db.session.scalar(select(SchedulerHeartbeat).where(SchedulerHeartbeat.job == SWEEP_JOB))
    except SQLAlchemyError as error:
        db.session.rollback()
        report["database"] = f"error: {error.__class__.__name__}"
        return {**report, "status": "unhealthy"}, False
    interval = float(current_app.config["SWEEP_SECONDS"])
    allowed = timedelta(seconds=3 * interval)
    if beat is None:
        report["scheduler"] = {"last_sweep_at": None, "status": "never swept"}
        healthy = False
    else:
        age = clock.now() - beat.last_completed_at
        fresh = age <= allowed
        report["scheduler"] = {
            "last_sweep_at": beat.last_completed_at.isoformat(),
            "seconds_since_last_sweep": round(age.total_seconds(), 3),
            "allowed_seconds": allowed.total_seconds(),
            "process": beat.process,
            "status": "ok" if fresh else "stale",
        }
        healthy = fresh
    report["status"] = "ok" if healthy else "unhealthy"
    return report, healthy


def public_view(report: dict) -> dict:
    """Return what anyone may see of a health document: the statuses and the sweep's age."""
    database = report["database"]
    return {
        "status": report["status"],
        "database": "ok" if database == "ok" else "error",
        "scheduler": {key: value for key, value in report["scheduler"].items() if key in PUBLIC_SCHEDULER_FIELDS},
    }


def _asker_is_admin() -> bool:
    """Return whether the caller is a signed-in admin or sends an API token whose person is one.

    A missing or bad token is no error here: a monitor without credentials still gets its answer.
    """
    if current_user.is_authenticated:
        return has_permission(current_user, Permission.ADMIN)
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return False
    try:
        found = check_token(secret=secret.strip(), permission=Permission.ADMIN.value)
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return found is not None and found.scope == "api" and found.permitted


@bp.route("/health")
@public
def health():
    report, healthy = health_report()
    return jsonify(report if _asker_is_admin() else public_view(report)), 200 if healthy else 503
