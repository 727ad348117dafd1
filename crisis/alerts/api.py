"""JSON API for inbound alerts: the Alertmanager webhook, the Events API v2, and a list.

Both intake endpoints take alerts-scoped (or full) tokens, refuse bodies over 512 KB with a
413, count calls per token per minute in the database (429 over the limit, any worker), and
answer 2xx only once the alert is committed.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, jsonify, request

from crisis import clock
from crisis.alerts.formats import (
    AlertmanagerOut,
    AlertmanagerWebhook,
    AlertOutcome,
    EventIn,
    EventsApiOut,
    alertmanager_signals,
    event_signal,
)
from crisis.alerts.schemas import AlertListOut, AlertOut
from crisis.alerts.service import (
    count_intake_call,
    list_alerts,
    receive_signal,
    receive_signals,
)
from crisis.api.errors import error_response
from crisis.api.paging import QUERY_DOCS, page_from_request
from crisis.api.routing import (
    ENDPOINTS,
    api_route,
    authenticate_request,
    current_actor,
    current_token,
    parse_body,
)
from crisis.enums import Permission
from crisis.errors import BadRequest, Forbidden, Unauthorized
from crisis.extensions import db
from crisis.inputs import load_json
from crisis.people.models import ApiToken
from crisis.people.service import person_for_token
from crisis.permissions import has_permission, scope_admits, token_may_call

MAX_ALERT_BODY = 512 * 1024
ALERTS_SCOPE = "alerts"


def _limit_body() -> None:
    """Refuse bodies over 512 KB here (the app-wide limit is 1 MB) with a JSON 413."""
    request.max_content_length = MAX_ALERT_BODY
    request.get_data(cache=True)


def _rate_limited(token: ApiToken):
    """Count this call; return a 429 response when the token is over its per-minute limit."""
    limit = int(current_app.config.get("ALERT_RATE_LIMIT", 120))
    wait = count_intake_call(token=token, limit=limit) if limit > 0 else 0
    # Committed at once: a call that then fails (bad body) still counts against the limit.
    db.session.commit()
    if not wait:
        return None
    response = error_response(429, "rate_limited",
                              f"more than {limit} alert calls a minute with this token; retry in {wait} s")
    response.headers["Retry-After"] = str(wait)
    return response


@api_route(
    "/alerts/alertmanager", method="POST", permission="declare", scope=ALERTS_SCOPE, tag="alerts",
    body=AlertmanagerWebhook, response=AlertmanagerOut,
    summary="Receive a Prometheus Alertmanager webhook (version 4)",
)
def alertmanager_webhook():
    _limit_body()
    refused = _rate_limited(current_token())
    if refused is not None:
        return refused
    webhook = parse_body(AlertmanagerWebhook)
    signals = alertmanager_signals(webhook)
    alerts = receive_signals(signals=signals, received_by=current_actor(), actor_label="alertmanager")
    db.session.commit()
    outcomes = [
        AlertOutcome(
            fingerprint=signal.dedup_key,
            status="firing" if signal.action == "trigger" else "resolved",
            alert=alert.id if alert is not None else None,
            disposition=alert.disposition if alert is not None else None,
            incident=alert.incident.ref if alert is not None and alert.incident is not None else None,
        )
        for signal, alert in zip(signals, alerts, strict=True)
    ]
    return AlertmanagerOut(status="success", alerts=outcomes)


def _authenticate_event() -> tuple[object, ApiToken]:
    """Authenticate by the Authorization header, else by the body's routing_key."""
    if request.headers.get("Authorization"):
        person = authenticate_request(permission="declare", scope=ALERTS_SCOPE)
        return person, current_token()
    try:
        data = load_json(request.get_data(cache=True) or b"{}")
    except BadRequest:
        data = None
    secret = data.get("routing_key") if isinstance(data, dict) else None
    if not isinstance(secret, str) or not secret.strip():
        raise Unauthorized("Send the token as 'Authorization: Bearer <token>' or as routing_key")
    found = person_for_token(secret.strip())
    if found is None:
        raise Unauthorized("The routing_key is not a known, live token")
    person, token = found
    if not scope_admits(token.scope, ALERTS_SCOPE):
        raise Forbidden(f"This token is scoped to {token.scope!r} and cannot send alerts")
    _require_intake_right(person, token)
    token.last_used_at = clock.now()
    return person, token


def _require_intake_right(person, token: ApiToken) -> None:
    """Apply api_route's token rule on the routing_key path: an alerts-scoped token is the grant,
    a general token needs the declare permission (alerts open incidents)."""
    permitted = has_permission(person, Permission.DECLARE)
    if not token_may_call(token_scope=token.scope, endpoint_scope=ALERTS_SCOPE, permitted=permitted):
        raise Forbidden(
            "Sending alerts with a general API token needs the 'declare' permission; "
            "use a token created with --scope alerts"
        )


def _invalid_event(error: BadRequest):
    """A 400 in our error shape that also reads as PagerDuty's ('invalid event', errors[])."""
    db.session.rollback()
    body: dict = {"code": error.code, "message": error.message}
    if error.field:
        body["field"] = error.field
    response = jsonify({"error": body, "status": "invalid event",
                        "message": "Event object is invalid", "errors": [error.message]})
    response.status_code = 400
    return response


@api_route(
    "/alerts/events", method="POST", permission=None, scope=ALERTS_SCOPE, tag="alerts",
    body=EventIn, response=EventsApiOut, status=202, public=True,
    summary="Receive an event in the PagerDuty Events API v2 shape (routing_key may carry the token)",
)
def events_api():
    _limit_body()
    person, token = _authenticate_event()
    refused = _rate_limited(token)
    if refused is not None:
        return refused
    try:
        event = parse_body(EventIn)
        if event.event_action == "trigger" and event.payload is None:
            raise BadRequest("Payload: Field required (summary, source and severity)", field="payload")
        if event.event_action != "trigger" and not event.dedup_key:
            raise BadRequest(f"Dedup_key: Field required to {event.event_action} an alert", field="dedup_key")
    except BadRequest as error:
        return _invalid_event(error)
    signal = event_signal(event)
    receive_signal(signal=signal, received_by=person, actor_label="events API")
    db.session.commit()
    return EventsApiOut(status="success", message="Event processed", dedup_key=signal.dedup_key), 202


# The events view authenticates itself (the token may be in the body), so api_route was told
# public=True; the OpenAPI document must still say that a token is needed.
for _doc in ENDPOINTS:
    if _doc.path == "/api/v1/alerts/events":
        _doc.public = False


@api_route(
    "/alerts", permission="view", tag="alerts", response=AlertListOut,
    query={"disposition": "pending, incident or dismissed (default: all)", **QUERY_DOCS},
    summary="Recent inbound alerts and reports, newest first, with what each became",
)
def alerts_list():
    disposition = request.args.get("disposition") or None
    if disposition not in (None, "pending", "incident", "dismissed"):
        raise BadRequest("Disposition must be pending, incident or dismissed", field="disposition")
    page = page_from_request("alerts", datetime, int)
    alerts, next_cursor = page.cut(list_alerts(disposition=disposition, limit=page.fetch, after=page.after),
                                   key=lambda alert: (alert.first_seen_at, alert.id))
    return AlertListOut(alerts=[AlertOut.of(a) for a in alerts], next_cursor=next_cursor)
