"""In-app notifications (the bell's inbox, marking read, channel preferences) and failed deliveries."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis.extensions import db
from crisis.notifications import service
from crisis.web.access import permission_required

bp = Blueprint("notifications", __name__)

DELIVERY_FILTERS = ("problems", "failed", "retrying")


@bp.app_context_processor
def inject_unread_count() -> dict:
    if current_user and getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": service.unread_count(person=current_user)}
    return {"unread_notifications": 0}


@bp.route("/notifications")
@permission_required(None)
def inbox():
    items = service.inbox(person=current_user)
    return render_template("notifications/inbox.html", items=items)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@permission_required(None)
def mark_read(notification_id: int):
    service.mark_read(person=current_user, notification_id=notification_id)
    db.session.commit()
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/read-all", methods=["POST"])
@permission_required(None)
def mark_all_read():
    count = service.mark_all_read(person=current_user)
    db.session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} read." if count else "Nothing was unread.", "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/preferences", methods=["POST"])
@permission_required(None)
def preferences():
    service.set_preferences(
        person=current_user, email=request.form.get("email") == "on", in_app=request.form.get("in_app") == "on"
    )
    db.session.commit()
    flash("Notification preferences saved.", "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/admin/deliveries")
@permission_required("admin")
def deliveries():
    chosen = request.args.get("show", "problems")
    if chosen not in DELIVERY_FILTERS:
        chosen = "problems"
    items = service.deliveries(status=chosen)
    return render_template("notifications/deliveries.html", items=items, chosen=chosen, filters=DELIVERY_FILTERS)


@bp.route("/admin/deliveries/<int:notification_id>/retry", methods=["POST"])
@permission_required("admin")
def retry(notification_id: int):
    item = service.retry_delivery(actor=current_user, notification_id=notification_id)
    db.session.commit()
    flash(f"Delivery to {item.address} is queued again.", "success")
    return redirect(url_for("notifications.deliveries"))
