"""The executive view: dashboard and the incident timeline."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from crisis.enums import OPEN_STATUSES
from crisis.errors import NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.timeline.service import events_for
from crisis.web.access import permission_required

bp = Blueprint("executive", __name__)


def _incident(ref: str) -> Incident:
    incident = db.session.scalar(select(Incident).where(Incident.ref == ref))
    if incident is None:
        raise NotFound(f"No incident {ref}.", field="ref")
    return incident


@bp.route("/dashboard")
@permission_required("view")
def dashboard():
    incidents = db.session.scalars(
        select(Incident).where(Incident.status.in_(OPEN_STATUSES)).order_by(Incident.severity, Incident.declared_at)
    ).all()
    return render_template("executive/dashboard.html", incidents=incidents)


@bp.route("/incidents/<ref>/timeline")
@permission_required("view")
def incident_timeline(ref):
    incident = _incident(ref)
    kind = request.args.get("kind", "").strip()
    events = events_for(incident.id, kinds=[kind] if kind else None)
    return render_template("incidents/timeline.html", incident=incident, events=events, kind=kind)
