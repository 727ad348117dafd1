"""GET /health: database reachability and the scheduler's dead-man's switch, as JSON."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from crisis import clock
from crisis.escalation.models import SWEEP_JOB, SchedulerHeartbeat
from crisis.extensions import db
from crisis.web.access import public

bp = Blueprint("health", __name__)



def health_report() -> tuple[dict, bool]:
    """Return the health document and whether everything is healthy."""
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


@bp.route("/health")
@public
def health():
    report, healthy = health_report()
    return jsonify(report), 200 if healthy else 503
