"""The executive dashboard: open incidents at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from crisis.enums import OPEN_STATUSES
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.web.access import permission_required

bp = Blueprint("executive", __name__)


@bp.route("/dashboard")
@permission_required("view")
def dashboard():
    incidents = db.session.scalars(
        select(Incident).where(Incident.status.in_(OPEN_STATUSES)).order_by(Incident.severity, Incident.declared_at)
    ).all()
    return render_template("executive/dashboard.html", incidents=incidents)
