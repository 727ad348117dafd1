"""Web pages for alerts: recent alerts and reports, confirm or dismiss, report, my reports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from crisis.alerts.forms import ConfirmForm, DismissForm, ReportForm
from crisis.alerts.service import (
    INTAKE_LABELS,
    alerts_reported_by,
    confirm_alert,
    dismiss_alert,
    get_alert,
    list_alerts,
    report_alert,
)
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.playbooks.service import list_playbooks
from crisis.web.access import permission_required

bp = Blueprint("alerts", __name__)

SHOW = {"": "All", "pending": "Waiting for a decision", "incident": "Incidents", "dismissed": "Dismissed"}


@bp.app_context_processor
def alert_labels() -> dict:
    return {"alert_intake_labels": INTAKE_LABELS}


@bp.route("/alerts")
@permission_required("view")
def list_page():
    show = request.args.get("show", "")
    if show not in SHOW:
        abort(404)
    return render_template("alerts/list.html", alerts=list_alerts(disposition=show or None),
                           show=show, tabs=SHOW)


def _confirm_form(alert) -> ConfirmForm:
    form = ConfirmForm(playbook=alert.playbook_key, severity=alert.severity,
                       title=alert.title[:200])
    form.playbook.choices = [SelectChoice("", "Choose a playbook")] + [
        SelectChoice(v.key, v.title) for v in list_playbooks()
    ]
    return form


@bp.route("/alerts/<int:alert_id>")
@permission_required("view")
def detail(alert_id: int):
    alert = get_alert(alert_id)
    return render_template("alerts/detail.html", alert=alert, confirm_form=_confirm_form(alert),
                           dismiss_form=DismissForm())


@bp.route("/alerts/<int:alert_id>/confirm", methods=["POST"])
@permission_required("declare")
def confirm(alert_id: int):
    alert = get_alert(alert_id)
    form = _confirm_form(alert)
    if not form.validate_on_submit():
        flash("; ".join(f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()),
              "error")
        return redirect(url_for("alerts.detail", alert_id=alert_id))
    incident = confirm_alert(alert=alert, actor=current_user, playbook_key=form.playbook.data,
                             severity=form.severity.data, title=form.title.data or None)
    db.session.commit()
    flash(f"{incident.ref} is open: {incident.title}", "success")
    return redirect(url_for("incidents.detail", ref=incident.ref))


@bp.route("/alerts/<int:alert_id>/dismiss", methods=["POST"])
@permission_required("declare")
def dismiss(alert_id: int):
    form = DismissForm()
    if not form.validate_on_submit():
        flash("The reason is too long (2,000 characters at most).", "error")
        return redirect(url_for("alerts.detail", alert_id=alert_id))
    dismiss_alert(alert=get_alert(alert_id), actor=current_user, reason=form.reason.data or "")
    db.session.commit()
    flash("Alert dismissed: it stays in the list of dismissed alerts.", "success")
    return redirect(url_for("alerts.list_page", show="pending"))


@bp.route("/alerts/report", methods=["GET", "POST"])
@permission_required(None)
def report():
    form = ReportForm()
    if form.validate_on_submit():
        try:
            alert = report_alert(reporter=current_user, url=form.url.data or "",
                                 platform=form.platform.data or "", concern=form.concern.data or "")
        except DomainError as error:
            db.session.rollback()
            form[error.field if error.field in form else "url"].errors.append(error.message)
            return render_template("alerts/report.html", form=form), 422
        db.session.commit()
        if alert.incident is not None:
            flash(f"Thank you. It is already being handled as {alert.incident.ref}.", "success")
        else:
            flash("Thank you. The triage lead has it and will decide what to do; "
                  "you can follow it here.", "success")
        return redirect(url_for("alerts.mine"))
    status = 422 if form.errors else 200
    return render_template("alerts/report.html", form=form), status


@bp.route("/alerts/mine")
@permission_required(None)
def mine():
    return render_template("alerts/mine.html", alerts=alerts_reported_by(current_user))
