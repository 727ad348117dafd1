"""Inbound signals: store, deduplicate and route each one to an incident or a pending alert.

Every intake (Alertmanager webhook, Events API, an employee's report) becomes a `Signal`;
`receive_signal` stores it in the caller's transaction. A signal whose key is already live
updates that alert (and its incident's timeline) instead of opening another incident; the
unique `live_key` makes that hold even for concurrent deliveries.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crisis import clock
from crisis.alerts.models import Alert
from crisis.alerts.routing import (
    BUILTIN_RULES,
    Route,
    RuleSet,
    RulesInvalid,
    load_rules,
)
from crisis.config import PROJECT_ROOT
from crisis.enums import ResponseRole
from crisis.errors import Conflict, DomainError, InvalidInput
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.incidents.service import declare_incident
from crisis.notifications.service import notify
from crisis.people.models import Person
from crisis.people.service import find_person, role_primary
from crisis.timeline.service import record

INTAKES = ("alertmanager", "events", "report")
ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_TITLE = 1024
MAX_INCIDENT_TITLE = 200
INTAKE_LABELS = {"alertmanager": "Alertmanager", "events": "Events API", "report": "employee report"}


@dataclass
class Signal:
    """One alert as a source sent it, reduced to what crisis needs."""

    intake: str
    action: str
    dedup_key: str
    title: str = ""
    source_name: str = ""
    raw_severity: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    group_key: str = ""


# -- routing rules -------------------------------------------------------------------------

_rules_cache: dict[str, tuple[tuple[int, int], RuleSet | None, str]] = {}
_rules_lock = threading.Lock()


def rules_path() -> Path:
    """Return where the routing rules file is (CRISIS_ALERT_RULES, default alerts/routing.yaml)."""
    configured = current_app.config.get("ALERT_RULES")
    return Path(configured) if configured else PROJECT_ROOT / "alerts" / "routing.yaml"


def current_rules() -> tuple[RuleSet, str]:
    """Return the rules in force and, when the file is unusable, why (then: built-in, pending)."""
    path = rules_path()
    try:
        stat = os.stat(path)
    except OSError:
        return BUILTIN_RULES, f"routing rules file {path} is missing; every alert waits for a person"
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _rules_lock:
        cached = _rules_cache.get(str(path))
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, load_rules(path), "")
            except RulesInvalid as error:
                cached = (stamp, None, f"routing rules are invalid ({error}); every alert waits for a person")
            _rules_cache[str(path)] = cached
    rules = cached[1]
    return (rules, "") if rules is not None else (BUILTIN_RULES, cached[2])


# -- intake --------------------------------------------------------------------------------


def receive_signal(*, signal: Signal, received_by: Person | None, actor_label: str = "") -> Alert | None:
    """Store one trigger/acknowledge/resolve; return its alert (None: resolve of an unknown key)."""
    if signal.intake not in INTAKES:
        raise InvalidInput(f"Unknown intake {signal.intake!r}", field="intake")
    if signal.action not in ACTIONS:
        raise InvalidInput(f"Event action must be one of {', '.join(ACTIONS)}", field="event_action")
    if not signal.dedup_key or len(signal.dedup_key) > 255:
        raise InvalidInput("The dedup key must be 1 to 255 characters", field="dedup_key")
    label = actor_label or signal.intake
    key = f"{signal.intake}:{signal.dedup_key}"
    # A concurrent delivery may insert the same live key first; then we update its row.
    for _attempt in range(3):
        alert = db.session.scalar(select(Alert).where(Alert.live_key == key))
        if alert is not None and not _still_live(alert):
            alert.live_key = None
            db.session.flush()
            alert = None
        if alert is not None:
            _update_existing(alert, signal, label)
            return alert
        if signal.action != "trigger":
            return None
        alert = _new_alert(signal, key, received_by)
        try:
            with db.session.begin_nested():
                db.session.add(alert)
                db.session.flush()
        except IntegrityError:
            continue
        _route_new(alert, label)
        return alert
    raise Conflict(f"The alert {signal.dedup_key!r} is being stored by another delivery; retry", field="dedup_key")


def receive_signals(
    *, signals: Sequence[Signal], received_by: Person | None, actor_label: str = ""
) -> list[Alert | None]:
    """Store several signals (an Alertmanager group) in the caller's transaction."""
    return [receive_signal(signal=s, received_by=received_by, actor_label=actor_label) for s in signals]


def _still_live(alert: Alert) -> bool:
    """Whether repeats of this alert still belong to it (rather than to a new alert)."""
    if alert.disposition == "incident":
        return alert.incident is not None and alert.incident.is_open
    if alert.disposition == "dismissed":
        return alert.state != "resolved"
    return True


def _new_alert(signal: Signal, key: str, received_by: Person | None) -> Alert:
    now = clock.now()
    return Alert(
        intake=signal.intake,
        dedup_key=signal.dedup_key,
        live_key=key,
        group_hash=_hash(f"{signal.intake}:{signal.group_key}") if signal.group_key else "",
        disposition="pending",
        state="firing",
        title=(signal.title.strip() or signal.dedup_key)[:MAX_TITLE],
        source_name=signal.source_name[:255],
        raw_severity=signal.raw_severity[:32],
        severity="SEV3",
        labels={k: str(v) for k, v in signal.attributes.items()},
        details=dict(signal.details),
        # Only web links: these become hrefs on pages and incident source links.
        links=[link for link in signal.links if is_web_url(link.get("url", ""))],
        received_by_id=received_by.id if received_by is not None else None,
        reported_by_id=received_by.id if received_by is not None and signal.intake == "report" else None,
        first_seen_at=now,
        last_seen_at=now,
    )


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _update_existing(alert: Alert, signal: Signal, label: str) -> None:
    now = clock.now()
    alert.last_seen_at = now
    incident_id = alert.incident_id if alert.disposition == "incident" else None
    data = {"alert": alert.id, "intake": alert.intake, "dedup_key": alert.dedup_key}
    if signal.action == "trigger":
        refired = alert.state == "resolved"
        # An SQL expression, so concurrent repeats each count once.
        alert.occurrences = Alert.occurrences + 1
        alert.state = "firing"
        alert.resolved_at = None
        db.session.flush()
        if incident_id is not None:
            what = "fired again" if refired else "repeated"
            record(incident_id=incident_id, kind="alert.received", actor_label=label,
                   summary=f"Alert {what}: {alert.title}",
                   data={**data, "occurrences": alert.occurrences, "refired": refired})
    elif signal.action == "acknowledge":
        if alert.state == "acknowledged":
            return
        alert.state = "acknowledged"
        alert.acknowledged_at = now
        if incident_id is not None:
            record(incident_id=incident_id, kind="alert.acknowledged", actor_label=label,
                   summary=f"Alert acknowledged at its source: {alert.title}", data=data)
    else:
        if alert.state == "resolved":
            return  # a redelivered resolve: already on the timeline once
        alert.state = "resolved"
        alert.resolved_at = now
        if alert.disposition == "dismissed":
            alert.live_key = None
        if incident_id is not None:
            # Recorded, never acted on: a person decides when the incident is over.
            record(incident_id=incident_id, kind="alert.resolved", actor_label=label,
                   summary=f"Alert resolved at its source: {alert.title}", data=data)


def _route_new(alert: Alert, label: str) -> None:
    rules, problem = current_rules()
    route = rules.route(alert.labels, alert.raw_severity)
    alert.rule = route.rule
    alert.playbook_key = route.playbook
    alert.mode = route.mode
    alert.severity = route.severity
    alert.triage_role = route.triage_role or ""
    alert.triage_owner_email = _triage_owner(route)
    alert.routing_note = problem
    # Flushed now: a failed declare below rolls back its savepoint, which must not take these.
    db.session.flush()
    sibling = _live_sibling(alert)
    if sibling is not None and sibling.disposition == "incident":
        attach_alert(alert, sibling.incident, label, decided_by=None)
        return
    if route.mode == "open" and not problem and sibling is None:
        if route.playbook is None:
            alert.routing_note = f"rule {route.rule!r} names no playbook; waiting for a person"
        else:
            try:
                with db.session.begin_nested():
                    incident = declare_from_alert(alert, declared_by=None, actor_label=label)
            except DomainError as error:
                alert.routing_note = f"could not open an incident: {error.message}; waiting for a person"
            else:
                attach_alert(alert, incident, label, decided_by=None, opened=True)
                return
    if sibling is None:
        # One notification per group: the triage lead already has one for a pending sibling.
        notify_triage(alert)


def _triage_owner(route: Route) -> str | None:
    if route.triage_owner:
        return route.triage_owner
    if route.triage_role:
        holder = role_primary(route.triage_role)
        return holder.email if holder is not None else None
    return None


def _live_sibling(alert: Alert) -> Alert | None:
    """Another live alert of the same group (Alertmanager group, or the same reported link)."""
    if not alert.group_hash:
        return None
    siblings = db.session.scalars(
        select(Alert)
        .where(Alert.group_hash == alert.group_hash, Alert.id != alert.id,
               Alert.live_key.is_not(None), Alert.disposition.in_(("pending", "incident")))
        .order_by(Alert.id)
    )
    found = None
    for sibling in siblings:
        if sibling.disposition == "incident" and sibling.incident is not None and sibling.incident.is_open:
            return sibling
        if sibling.disposition == "pending" and found is None:
            found = sibling
    return found


def declare_from_alert(alert: Alert, *, declared_by: Person | None, actor_label: str,
             playbook_key: str | None = None, severity: str | None = None, title: str | None = None,
             triage_owner_email: str | None = None) -> Incident:

    owner = triage_owner_email if triage_owner_email is not None else alert.triage_owner_email
    if owner and find_person(owner) is None:
        alert.routing_note = f"triage owner {owner} is not a person here; opened without one"
        owner = None
    return declare_incident(
        playbook_key=playbook_key or alert.playbook_key or "",
        title=shorten(title or alert.title, MAX_INCIDENT_TITLE),
        severity=severity or alert.severity,
        declared_by=declared_by,
        summary=_incident_summary(alert),
        triage_owner_email=owner or None,
        links=[(link["platform"][:50], link["url"]) for link in alert.links if is_web_url(link.get("url", ""))],
        actor_label="" if declared_by is not None else actor_label,
    ).incident


def attach_alert(alert: Alert, incident: Incident, label: str, *, decided_by: Person | None,
            opened: bool = False) -> None:
    alert.disposition = "incident"
    alert.incident_id = incident.id
    alert.incident = incident
    alert.decided_at = clock.now()
    alert.decided_by_id = decided_by.id if decided_by is not None else None
    how = "opened this incident" if opened else "joined this incident"
    record(
        incident_id=incident.id, kind="alert.received", actor=decided_by,
        actor_label="" if decided_by is not None else label,
        summary=f"{INTAKE_LABELS[alert.intake].capitalize()} {how}: {alert.title}",
        data={"alert": alert.id, "intake": alert.intake, "dedup_key": alert.dedup_key,
              "rule": alert.rule, "occurrences": alert.occurrences},
    )


def _incident_summary(alert: Alert) -> str:
    lines = [f"Opened from an {INTAKE_LABELS[alert.intake]} (alert #{alert.id}, rule `{alert.rule}`)."]
    if alert.intake == "report" and alert.reported_by is not None:
        lines[0] = f"Reported by {alert.reported_by.name} (alert #{alert.id})."
    for name, value in alert.details.items():
        if isinstance(value, str | int | float) and str(value).strip():
            lines.append(f"- **{name}**: {str(value)[:500]}")
    if alert.labels:
        shown = ", ".join(f"`{k}={v}`" for k, v in sorted(alert.labels.items())[:20])
        lines.append(f"- **labels**: {shown}")
    return "\n".join(lines)


def notify_triage(alert: Alert) -> None:
    """Tell the triage role's primary that an alert waits for a decision."""
    recipient = role_primary(alert.triage_role or ResponseRole.TRIAGE_LEAD.value)
    if recipient is None:
        return
    db.session.flush()
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    notify(
        recipients=[recipient],
        subject=f"Alert to triage: {shorten(alert.title, 150)}",
        body=(f"A {INTAKE_LABELS[alert.intake]} waits for a decision ({alert.severity}, "
              f"playbook {alert.playbook_key or 'to choose'}): {alert.title}\n"
              "Confirm it to open an incident, or dismiss it."),
        incident=None,
        dedup_key=f"alert-{alert.id}-pending",
        link=f"{base}/alerts/{alert.id}",
    )


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(url) <= 2000
