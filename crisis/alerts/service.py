"""Inbound alerts: people confirming and dismissing them, employees reporting, reading, rate limits.

How a signal is stored, deduplicated and routed is in `alerts.intake`; its public names are
re-exported here, so callers keep importing from this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from crisis import clock
from crisis.alerts.intake import (
    ACTIONS,
    INTAKE_LABELS,
    INTAKES,
    MAX_INCIDENT_TITLE,
    MAX_TITLE,
    Signal,
    attach_alert,
    current_rules,
    declare_from_alert,
    is_web_url,
    receive_signal,
    receive_signals,
    rules_path,
    shorten,
)
from crisis.alerts.models import Alert, AlertRateWindow
from crisis.alerts.routing import SEVERITIES
from crisis.db.keyset import after_key
from crisis.enums import Permission
from crisis.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.inputs import fits_id
from crisis.people.models import ApiToken, Person
from crisis.people.service import find_person
from crisis.permissions import has_permission

__all__ = [
    "ACTIONS", "INTAKES", "INTAKE_LABELS", "MAX_INCIDENT_TITLE", "MAX_TITLE", "RateLimited", "Signal",
    "alerts_reported_by", "confirm_alert", "count_intake_call", "current_rules", "dismiss_alert",
    "get_alert", "guess_platform", "list_alerts", "receive_signal", "receive_signals", "report_alert",
    "rules_path",
]

# Hosts of the platforms people report from, so a bare link is enough to fill in the platform.
PLATFORM_HOSTS = {
    "x.com": "x", "twitter.com": "x", "facebook.com": "facebook", "fb.com": "facebook",
    "instagram.com": "instagram", "tiktok.com": "tiktok", "youtube.com": "youtube",
    "youtu.be": "youtube", "linkedin.com": "linkedin", "reddit.com": "reddit",
    "threads.net": "threads", "bsky.app": "bluesky", "mastodon.social": "mastodon",
    "trustpilot.com": "trustpilot", "news.ycombinator.com": "hacker-news",
}


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# -- people deciding -----------------------------------------------------------------------


def get_alert(alert_id: int) -> Alert:
    """Return one alert or raise NotFound."""
    alert = db.session.get(Alert, alert_id) if fits_id(alert_id) else None
    if alert is None:
        raise NotFound("There is no such alert.", field="alert")
    return alert


def confirm_alert(
    *,
    alert: Alert,
    actor: Person,
    playbook_key: str | None = None,
    severity: str | None = None,
    title: str | None = None,
    triage_owner_email: str | None = None,
) -> Incident:
    """Open an incident from a pending alert (and attach the pending alerts of its group)."""
    if not has_permission(actor, Permission.DECLARE):
        raise Forbidden("Confirming an alert declares an incident: this needs the declare permission.")
    _claim(alert, "incident", actor)
    playbook_key = (playbook_key or alert.playbook_key or "").strip()
    if not playbook_key:
        raise InvalidInput("Choose the playbook to open the incident from.", field="playbook")
    if severity is not None and severity not in SEVERITIES:
        raise InvalidInput(f"Severity must be one of {', '.join(SEVERITIES)}", field="severity")
    if title is not None and not title.strip():
        raise InvalidInput("Give the incident a title.", field="title")
    if triage_owner_email:
        triage_owner_email = triage_owner_email.strip().lower()
        if find_person(triage_owner_email) is None:
            raise NotFound("Nobody here has that email address: choose the triage owner from the list.", field="triage_owner")
    alert.playbook_key = playbook_key
    alert.severity = severity or alert.severity
    incident = declare_from_alert(alert, declared_by=actor, actor_label="", playbook_key=playbook_key,
                        severity=alert.severity, title=title, triage_owner_email=triage_owner_email)
    attach_alert(alert, incident, "", decided_by=actor, opened=True)
    if alert.group_hash:
        for other in db.session.scalars(
            select(Alert).where(Alert.group_hash == alert.group_hash, Alert.id != alert.id,
                                Alert.disposition == "pending", Alert.live_key.is_not(None))
        ):
            attach_alert(other, incident, "", decided_by=actor)
    return incident


def dismiss_alert(*, alert: Alert, actor: Person, reason: str = "") -> Alert:
    """Dismiss a pending alert; its repeats stay with it until its source resolves it."""
    if not has_permission(actor, Permission.DECLARE):
        raise Forbidden("Dismissing an alert needs the declare permission.")
    if len(reason) > 2000:
        raise InvalidInput("The reason is longer than 2,000 characters", field="reason")
    _claim(alert, "dismissed", actor)
    alert.dismiss_reason = reason.strip()
    if alert.state == "resolved":
        alert.live_key = None
    return alert


def _claim(alert: Alert, disposition: str, actor: Person) -> None:
    """Move a pending alert on with a compare-and-set, so two people cannot both decide it."""
    result = db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.disposition == "pending")
        .values(disposition=disposition, decided_by_id=actor.id, decided_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(alert)
        raise Conflict(f"This alert is already {_disposition_phrase(alert)}.", field="alert")
    db.session.refresh(alert)


def _disposition_phrase(alert: Alert) -> str:
    if alert.disposition == "incident":
        return f"part of incident {alert.incident.ref}" if alert.incident is not None else "an incident"
    return alert.disposition


# -- employees reporting -------------------------------------------------------------------


def report_alert(*, reporter: Person, url: str = "", platform: str = "", concern: str = "") -> Alert:
    """Store what an employee spotted online as a pending alert for the triage role."""
    url, platform, concern = url.strip(), platform.strip().lower(), concern.strip()
    if not url and not concern:
        raise InvalidInput("Paste the link to what you saw (or describe it)", field="url")
    if url:
        if len(url) > 2000:
            raise InvalidInput("The link is longer than 2,000 characters", field="url")
        if not is_web_url(url):
            raise InvalidInput("The link must be a web address starting with http:// or https://",
                               field="url")
    if len(platform) > 50:
        raise InvalidInput("The platform name is longer than 50 characters", field="platform")
    if len(concern) > 4000:
        raise InvalidInput("Please keep it under 4,000 characters", field="concern")
    platform = platform or guess_platform(url) or ("web" if url else "")
    title = concern.splitlines()[0] if concern else f"Reported post on {platform}: {url}"
    signal = Signal(
        intake="report",
        action="trigger",
        dedup_key=uuid.uuid4().hex,
        title=shorten(title, 300),
        source_name=reporter.email,
        attributes={"intake": "report", "platform": platform},
        details={"concern": concern, "link": url} if url else {"concern": concern},
        links=[{"platform": platform, "url": url}] if url else [],
        # Two people reporting the same link land on the same incident.
        group_key=_normalise_url(url) if url else "",
    )
    alert = receive_signal(signal=signal, received_by=reporter, actor_label=reporter.email)
    assert alert is not None  # a trigger always stores an alert
    return alert


def guess_platform(url: str) -> str:
    """Name the platform a link points to (x, facebook, tiktok...), or '' when unknown."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.").removeprefix("m.")
    for known, name in PLATFORM_HOSTS.items():
        if host == known or host.endswith("." + known):
            return name
    return ""


def _normalise_url(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}?{parts.query}"


# -- reading -------------------------------------------------------------------------------


def list_alerts(
    *, disposition: str | None = None, limit: int = 100, after: Sequence[Any] | None = None
) -> list[Alert]:
    """Return recent alerts, newest first, optionally only one disposition and only those after
    the sort key (first_seen_at, id) of the last one seen."""
    query = select(Alert)
    keyset = after_key((Alert.first_seen_at, Alert.id), after, descending=True)
    if keyset is not None:
        query = query.where(keyset)
    if disposition:
        query = query.where(Alert.disposition == disposition)
    return list(db.session.scalars(query.order_by(Alert.first_seen_at.desc(), Alert.id.desc()).limit(limit)))


def alerts_reported_by(person: Person, *, limit: int = 100) -> list[Alert]:
    """Return what this person reported, newest first."""
    query = (select(Alert).where(Alert.reported_by_id == person.id)
             .order_by(Alert.first_seen_at.desc(), Alert.id.desc()).limit(limit))
    return list(db.session.scalars(query))


# -- rate limit ----------------------------------------------------------------------------


def count_intake_call(*, token: ApiToken, limit: int) -> int:
    """Count one intake call against the token's current minute; return seconds to wait if over.

    The counter lives in the database, so every worker process shares it.
    """
    now = clock.now()
    window = now.replace(second=0, microsecond=0)
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    table = AlertRateWindow.__table__
    statement = (
        dialect.insert(table)
        .values(token_id=token.id, window_start=window, count=1)
        .on_conflict_do_update(index_elements=[table.c.token_id, table.c.window_start],
                               set_={"count": table.c.count + 1})
        .returning(table.c.count)
    )
    count = db.session.execute(statement).scalar_one()
    db.session.execute(
        delete(AlertRateWindow).where(AlertRateWindow.token_id == token.id,
                                      AlertRateWindow.window_start < window - timedelta(minutes=5))
    )
    if count <= limit:
        return 0
    return max(1, int((window + timedelta(minutes=1) - now).total_seconds() + 0.999))
