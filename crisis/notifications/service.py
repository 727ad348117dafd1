"""Notifications: write outbox rows (in the caller's transaction), read and mark the in-app inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import func, select, update

from crisis import clock
from crisis.audit import audit
from crisis.drills.marking import drill_webhooks, mark_drill
from crisis.enums import NotificationChannel, NotificationStatus, Permission
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.notifications import wakeup
from crisis.notifications.models import Notification, Webhook
from crisis.people.models import Person
from crisis.permissions import has_permission, owns_notification

CHANNELS = tuple(c.value for c in NotificationChannel)


class Recipient(Protocol):
    """What a notification needs of a person (a Person, or the sweep's detached Contact)."""

    id: int
    email: str
    name: str
    active: bool
    notify_email: bool
    notify_in_app: bool

DEDUP_KEY_LENGTH = 200


def notify(
    *,
    recipients: Sequence[Person],
    subject: str,
    body: str,
    incident: Incident | None,
    dedup_key: str,
    channels: Sequence[str] = ("email", "in_app", "webhook"),
    link: str | None = None,
) -> list[Notification]:
    """Write the outbox rows for one message, honouring each person's channel preferences.

    Row keys are `<dedup_key>:<channel>:<target>`, so calling twice with the same key writes
    nothing the second time. Webhook rows go to every active webhook, once per message.
    """
    rows = compose(
        recipients=recipients, subject=subject, body=body, incident=incident, dedup_key=dedup_key,
        channels=channels, link=link, webhooks=active_webhooks() if "webhook" in channels else (),
    )
    if not rows:
        return []
    existing = set(
        db.session.scalars(select(Notification.dedup_key).where(Notification.dedup_key.in_([r.dedup_key for r in rows])))
    )
    rows = [row for row in rows if row.dedup_key not in existing]
    db.session.add_all(rows)
    if any(row.status == NotificationStatus.PENDING.value for row in rows):
        wakeup.mark(db.session())
    return rows


def compose(
    *,
    recipients: Sequence[Person],
    subject: str,
    body: str,
    incident: Incident | None,
    dedup_key: str,
    channels: Sequence[str],
    link: str | None,
    webhooks: Sequence[Webhook],
) -> list[Notification]:
    """Build (not add) the outbox rows for one message; reads nothing from the database."""
    return [
        Notification(**row)
        for row in compose_rows(
            recipients=recipients, subject=subject, body=body, incident=incident, dedup_key=dedup_key,
            channels=channels, link=link, webhooks=webhooks,
        )
    ]


def compose_rows(
    *,
    recipients: Sequence[Recipient],
    subject: str,
    body: str,
    incident: Incident | None,
    dedup_key: str,
    channels: Sequence[str],
    link: str | None,
    webhooks: Sequence[Webhook],
) -> list[dict[str, Any]]:
    """Return the outbox rows for one message as column dicts (for bulk inserts).

    The escalation sweep inserts these directly, a batch of claims at a time; its claims already
    guarantee each key is new.
    """
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise InvalidInput(f"Unknown notification channel {unknown[0]!r}", field="channels")
    now = clock.now()
    incident_id = incident.id if incident is not None else None
    subject = subject.strip()[:300]
    shown = subject
    if incident is not None and incident.is_drill:
        # Drill traffic says so (the email subject template marks it itself) and reaches only
        # the webhooks flagged for drills.
        shown, webhooks = mark_drill(subject)[:300], drill_webhooks(webhooks)
    payload: dict[str, Any] = {"link": link, "incident": incident.ref if incident is not None else None}
    common: dict[str, Any] = {
        "incident_id": incident_id, "payload": payload, "attempts": 0, "last_error": "", "created_at": now,
        "read_at": None,
    }
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    # No mail server configured: the email is kept in the mailbox admins can read, never sent.
    mailbox = not mail_server_configured()
    # Every row sets the same columns, so a batch goes to the database as one multi-row INSERT.
    for person in recipients:
        if person is None or person.id in seen or not person.active:
            continue
        seen.add(person.id)
        if "email" in channels and person.notify_email:
            rows.append(
                dict(
                    **common,
                    channel=NotificationChannel.EMAIL.value,
                    recipient_id=person.id,
                    address=person.email,
                    webhook_id=None,
                    subject=render_email_subject(subject=subject, incident=incident),
                    body=render_email_body(person=person, body=body, link=link, incident=incident),
                    dedup_key=_key(dedup_key, "email", person.id),
                    status=NotificationStatus.HELD.value if mailbox else NotificationStatus.PENDING.value,
                    next_attempt_at=None if mailbox else now,
                    sent_at=None,
                )
            )
        if "in_app" in channels and person.notify_in_app:
            # Nothing to deliver: the row is the inbox entry, visible at once.
            rows.append(
                dict(
                    **common,
                    channel=NotificationChannel.IN_APP.value,
                    recipient_id=person.id,
                    address="",
                    webhook_id=None,
                    subject=shown,
                    body=body,
                    dedup_key=_key(dedup_key, "in_app", person.id),
                    status=NotificationStatus.SENT.value,
                    next_attempt_at=None,
                    sent_at=now,
                )
            )
    if "webhook" in channels:
        for webhook in webhooks:
            rows.append(
                dict(
                    **common,
                    channel=NotificationChannel.WEBHOOK.value,
                    recipient_id=None,
                    address=webhook.url,
                    webhook_id=webhook.id,
                    subject=shown,
                    body=body,
                    dedup_key=_key(dedup_key, "webhook", webhook.id),
                    status=NotificationStatus.PENDING.value,
                    next_attempt_at=now,
                    sent_at=None,
                )
            )
    return rows


def mail_server_configured() -> bool:
    """Whether email can be sent: CRISIS_SMTP_HOST names a mail server."""
    return bool((current_app.config.get("SMTP_HOST") or "").strip())


def mailbox(*, limit: int = 200) -> list[Notification]:
    """Return the emails kept because no mail server is configured, newest first (admins read them)."""
    return list(db.session.scalars(
        select(Notification)
        .where(Notification.channel == NotificationChannel.EMAIL.value,
               Notification.status == NotificationStatus.HELD.value)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def failing_channels(*, since: datetime) -> list[str]:
    """Return the outbound channels with a delivery that failed, or is retrying, since `since`."""
    rows = db.session.execute(
        select(Notification.channel).where(
            Notification.channel != NotificationChannel.IN_APP.value,
            Notification.created_at >= since,
            (Notification.status == NotificationStatus.FAILED.value)
            | ((Notification.status == NotificationStatus.PENDING.value) & (Notification.attempts > 0)
               & (Notification.last_error != "")),
        ).group_by(Notification.channel)
    )
    return sorted(channel for (channel,) in rows)


def _key(dedup_key: str, channel: str, target: int) -> str:
    suffix = f":{channel}:{target}"
    return dedup_key[: DEDUP_KEY_LENGTH - len(suffix)] + suffix


def active_webhooks() -> list[Webhook]:
    """Return the active webhooks, one per URL and format (every outbound message goes to each)."""
    unique: dict[tuple[str, str], Webhook] = {}
    for webhook in db.session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)):
        # The same URL registered twice (or by two processes syncing the settings) gets one post.
        unique.setdefault((webhook.url, webhook.format), webhook)
    return list(unique.values())


def render_email_subject(*, subject: str, incident: Incident | None) -> str:
    """Render an email subject from templates/email/subject.txt."""
    template = current_app.jinja_env.get_template("email/subject.txt")
    return " ".join(template.render(subject=subject, incident=incident).split())[:300]


def render_email_body(*, person: Recipient, body: str, link: str | None, incident: Incident | None) -> str:
    """Render an email body from templates/email/message.txt."""
    template = current_app.jinja_env.get_template("email/message.txt")
    return template.render(
        person=person,
        body=body,
        link=link,
        incident=incident,
        base_url=current_app.config["BASE_URL"].rstrip("/"),
        company=current_app.config["COMPANY_NAME"],
    )


def inbox(*, person: Person, limit: int = 100) -> list[Notification]:
    """Return a person's in-app notifications, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id, Notification.channel == NotificationChannel.IN_APP.value)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(*, person: Person) -> int:
    """Return how many in-app notifications a person has not read."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.recipient_id == person.id,
                Notification.channel == NotificationChannel.IN_APP.value,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(*, person: Person, notification_id: int) -> Notification:
    """Mark one of a person's in-app notifications read (reading it again changes nothing)."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.channel != NotificationChannel.IN_APP.value:
        raise NotFound("There is no such notification.", field="notification")
    if not owns_notification(person, item):
        raise Forbidden("This notification is someone else's.", field="notification")
    if item.read_at is None:
        item.read_at = clock.now()
    return item


def mark_all_read(*, person: Person) -> int:
    """Mark every unread in-app notification of a person read; return how many changed."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == person.id,
            Notification.channel == NotificationChannel.IN_APP.value,
            Notification.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def set_preferences(*, person: Person, email: bool, in_app: bool) -> Person:
    """Choose which personal channels a person is notified on."""
    person.notify_email = email
    person.notify_in_app = in_app
    return person


def deliveries(*, status: str | None = None, limit: int = 200) -> list[Notification]:
    """Return outbound deliveries (email and webhook) that failed or are retrying, newest first."""
    query = select(Notification).where(Notification.channel != NotificationChannel.IN_APP.value)
    if status == NotificationStatus.FAILED.value:
        query = query.where(Notification.status == NotificationStatus.FAILED.value)
    elif status == "retrying":
        query = query.where(Notification.status == NotificationStatus.PENDING.value, Notification.attempts > 0)
    elif status is None or status == "problems":
        query = query.where(
            (Notification.status == NotificationStatus.FAILED.value)
            | ((Notification.status == NotificationStatus.PENDING.value) & (Notification.attempts > 0))
        )
    else:
        raise InvalidInput(f"Unknown delivery filter {status!r} (failed, retrying, problems)", field="status")
    return list(db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def retry_delivery(*, actor: Person, notification_id: int) -> Notification:
    """Put a failed delivery back in the outbox for another round of attempts (admins only)."""
    if not has_permission(actor, Permission.ADMIN):
        raise Forbidden("Only admins may retry deliveries.")
    item = db.session.get(Notification, notification_id)
    if item is None or item.channel == NotificationChannel.IN_APP.value:
        raise NotFound("There is no such delivery.", field="notification")
    if item.status != NotificationStatus.FAILED.value:
        raise Conflict("Only a failed delivery can be retried.", field="notification")
    item.status = NotificationStatus.PENDING.value
    item.attempts = 0
    item.next_attempt_at = clock.now()
    audit(actor=actor, action="delivery.retried", target=item.address, data={"notification": item.id})
    return item
