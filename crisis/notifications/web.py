"""In-app notifications: the bell's inbox."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from crisis.enums import NotificationChannel
from crisis.extensions import db
from crisis.notifications.models import Notification
from crisis.web.access import permission_required

bp = Blueprint("notifications", __name__)


def unread_count(person_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.recipient_id == person_id,
            Notification.channel == NotificationChannel.IN_APP.value,
            Notification.read_at.is_(None),
        )
    ) or 0


@bp.app_context_processor
def inject_unread_count() -> dict:
    if current_user and getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": unread_count(current_user.id)}
    return {"unread_notifications": 0}


@bp.route("/notifications")
@permission_required(None)
def inbox():
    items = db.session.scalars(
        select(Notification)
        .where(Notification.recipient_id == current_user.id, Notification.channel == NotificationChannel.IN_APP.value)
        .order_by(Notification.created_at.desc())
        .limit(100)
    ).all()
    return render_template("notifications/inbox.html", items=items)
