"""In-app notifications (the bell's inbox, marking read, channel preferences) and failed deliveries."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crisis import clock
from crisis.enums import Permission
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.notifications import service, webhooks
from crisis.permissions import has_permission
from crisis.web.access import permission_required

bp = Blueprint("notifications", __name__)

DELIVERY_FILTERS = ("problems", "failed", "retrying")
# A delivery that failed within this window makes its channel "failing" in the admins' banner.
FAILING_WINDOW = timedelta(hours=24)


# The page chrome's per-person figures are functions the templates call where they show them:
# every render_template runs the context processors, live fragments included, and those show
# none of them.
def _unread_notifications() -> int:
    if current_user and getattr(current_user, "is_authenticated", False):
        return service.unread_count(person=current_user)
    return 0


def _is_admin() -> bool:
    return bool(current_user and getattr(current_user, "is_authenticated", False)
                and has_permission(current_user, Permission.ADMIN))


def _failing_channels() -> list[str]:
    """Admins see, on every page, which outbound channels are failing."""
    return service.failing_channels(since=clock.now() - FAILING_WINDOW) if _is_admin() else []


def _mail_kept() -> bool:
    """Admins see when mail is only kept in the mailbox, not sent."""
    return _is_admin() and not service.mail_server_configured()


@bp.app_context_processor
def inject_chrome() -> dict:
    return {"unread_notifications": _unread_notifications, "failing_channels": _failing_channels,
            "mail_kept": _mail_kept}


@bp.route("/admin/mailbox")
@permission_required("admin")
def mailbox():
    return render_template("notifications/mailbox.html", items=service.mailbox())


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


@bp.route("/admin/webhooks")
@permission_required("admin")
def list_webhooks():
    return render_template("notifications/webhooks.html", webhooks=webhooks.list_webhooks(), formats=webhooks.FORMATS,
                           form={})


@bp.route("/admin/webhooks", methods=["POST"])
@permission_required("admin")
def add_webhook():
    form = {key: request.form.get(key, "") for key in ("name", "url", "format", "secret")}
    try:
        webhook = webhooks.add_webhook(
            name=form["name"], url=form["url"], format=form["format"] or "slack", secret=form["secret"],
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"], actor=current_user,
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        # Re-show the form with what was typed (never the secret), so a typo costs one field.
        form["secret"] = ""
        return render_template("notifications/webhooks.html", webhooks=webhooks.list_webhooks(),
                               formats=webhooks.FORMATS, form=form), 422
    db.session.commit()
    flash(f"Webhook {webhook.name} added; send it a test message to check the channel.", "success")
    return redirect(url_for("notifications.list_webhooks"))


@bp.route("/admin/webhooks/<int:webhook_id>/active", methods=["POST"])
@permission_required("admin")
def toggle_webhook(webhook_id: int):
    webhook = webhooks.set_webhook_active(name=webhooks.get_webhook(webhook_id).name,
                                          active=request.form.get("active") == "on", actor=current_user)
    db.session.commit()
    flash(f"Webhook {webhook.name} is {'active' if webhook.active else 'switched off'}.", "success")
    return redirect(url_for("notifications.list_webhooks"))


@bp.route("/admin/webhooks/<int:webhook_id>/test", methods=["POST"])
@permission_required("admin")
def test_webhook(webhook_id: int):
    webhook = webhooks.get_webhook(webhook_id)
    webhooks.queue_test_message(webhook=webhook, requested_by=current_user.email)
    db.session.commit()
    flash(f"A test message to {webhook.name} is in the outbox; failures show under Deliveries.", "success")
    return redirect(url_for("notifications.list_webhooks"))
