"""The wire formats crisis accepts, and how each becomes a `Signal`.

- Prometheus Alertmanager's webhook (version 4): one POST per alert group, every alert of
  the group in `alerts[]`, re-sent while the group fires; each alert keyed by `fingerprint`.
- PagerDuty's Events API v2: one event per POST, `event_action` trigger/acknowledge/resolve,
  keyed by `dedup_key` (generated for a trigger that has none, as PagerDuty does).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crisis.alerts.intake import Signal

MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = ""
    endsAt: str = ""
    generatorURL: str = Field("", max_length=2000)
    fingerprint: str = Field("", max_length=MAX_DEDUP_KEY)


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body, version 4 (unknown fields are ignored, as it may add some)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"] = "4"
    groupKey: str = Field(min_length=1, max_length=10_000)
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: str = Field("", max_length=255)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = Field("", max_length=2000)
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=2000)


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    summary: str = Field(min_length=1, max_length=MAX_SUMMARY)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: str | None = None
    component: str | None = Field(None, max_length=255)
    group: str | None = Field(None, max_length=255)
    class_: str | None = Field(None, alias="class", max_length=255)
    custom_details: Any = None


class EventLink(BaseModel):
    model_config = ConfigDict(extra="ignore")

    href: str = Field(max_length=2000)
    text: str = Field("", max_length=500)


class EventIn(BaseModel):
    """A PagerDuty Events API v2 event."""

    model_config = ConfigDict(extra="ignore")

    routing_key: str = Field("", max_length=200)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(None, min_length=1, max_length=MAX_DEDUP_KEY)
    payload: EventPayload | None = None
    links: list[EventLink] = Field(default_factory=list, max_length=50)
    client: str | None = Field(None, max_length=255)
    client_url: str | None = Field(None, max_length=2000)


class AlertOutcome(BaseModel):
    fingerprint: str
    status: str
    alert: int | None
    disposition: str | None
    incident: str | None


class AlertmanagerOut(BaseModel):
    status: str
    alerts: list[AlertOutcome]


class EventsApiOut(BaseModel):
    status: str
    message: str
    dedup_key: str


def alertmanager_signals(webhook: AlertmanagerWebhook) -> list[Signal]:
    """One signal per alert of the group: firing is a trigger, resolved a resolve."""
    signals = []
    for alert in webhook.alerts:
        labels = dict(alert.labels)
        # Alertmanager always sends a fingerprint; a hand-made payload may not.
        key = alert.fingerprint or hashlib.sha256(
            (webhook.groupKey + "\n" + "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))).encode()
        ).hexdigest()[:32]
        annotations = {**webhook.commonAnnotations, **alert.annotations}
        title = (annotations.get("summary") or annotations.get("title")
                 or annotations.get("description") or labels.get("alertname") or key)
        details: dict[str, Any] = {k: v for k, v in annotations.items() if k != "summary"}
        if alert.startsAt:
            details["startsAt"] = alert.startsAt
        links = []
        if alert.generatorURL:
            links.append({"platform": "monitor", "url": alert.generatorURL})
        for name in ("url", "link", "post_url"):
            if annotations.get(name):
                links.append({"platform": labels.get("platform", "web"), "url": annotations[name]})
        signals.append(
            Signal(
                intake="alertmanager",
                action="trigger" if alert.status == "firing" else "resolve",
                dedup_key=key,
                title=title,
                source_name=webhook.receiver,
                raw_severity=labels.get("severity", ""),
                attributes={**labels, "intake": "alertmanager", "receiver": webhook.receiver},
                details=details,
                links=links,
                group_key=f"{webhook.receiver}\n{webhook.groupKey}",
            )
        )
    return signals


def event_signal(event: EventIn) -> Signal:
    """The signal of one Events API event (a trigger without dedup_key gets a new key)."""
    payload = event.payload
    attributes: dict[str, str] = {"intake": "events"}
    details: dict[str, Any] = {}
    if payload is not None:
        attributes.update(source=payload.source, severity=payload.severity)
        for name in ("component", "group", "class_"):
            value = getattr(payload, name)
            if value:
                attributes[name.rstrip("_")] = value
        if isinstance(payload.custom_details, dict):
            details = dict(payload.custom_details)
            for key, value in payload.custom_details.items():
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    attributes[f"custom_details.{key}"] = str(value)
        elif payload.custom_details is not None:
            details = {"details": str(payload.custom_details)}
    links = [{"platform": link.text[:50] or "link", "url": link.href} for link in event.links]
    if event.client_url:
        links.append({"platform": (event.client or "monitor")[:50], "url": event.client_url})
    return Signal(
        intake="events",
        action=event.event_action,
        dedup_key=event.dedup_key or uuid.uuid4().hex,
        title=payload.summary if payload is not None else "",
        source_name=payload.source if payload is not None else "",
        raw_severity=payload.severity if payload is not None else "",
        attributes=attributes,
        details=details,
        links=links,
    )
