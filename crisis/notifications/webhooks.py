"""Outbound webhooks: managing them, refusing private addresses, formatting, signing, posting."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from crisis.audit import audit
from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.extensions import db
from crisis.notifications.models import Notification, Webhook
from crisis.notifications.service import compose
from crisis.people.models import Person

log = logging.getLogger(__name__)

FORMATS = ("slack", "teams")
SIGNATURE_HEADER = "X-Crisis-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryRefused(Exception):
    """A delivery that must not be attempted again as it stands (policy, not a transient fault)."""


def add_webhook(
    *, name: str, url: str, format: str = "slack", secret: str = "", allow_private: bool = False,
    actor: Person | None = None, actor_label: str = "", drills: bool = False,
) -> Webhook:
    """Register an outbound webhook; every notification with the webhook channel goes to it (audited)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("Name must be 1 to 100 characters", field="name")
    if format not in FORMATS:
        raise InvalidInput(f"Format must be one of {', '.join(FORMATS)}, not {format!r}", field="format")
    if len(secret) > 200:
        raise InvalidInput("Secret must be at most 200 characters", field="secret")
    try:
        check_url(url, allow_private=allow_private)
    except DeliveryRefused as error:
        raise InvalidInput(str(error), field="url") from None
    if db.session.scalar(select(Webhook.id).where(Webhook.name == name)) is not None:
        raise Conflict(f"A webhook named {name!r} already exists", field="name")
    webhook = Webhook(name=name, url=url.strip(), format=format, secret=secret, active=True, drills=drills)
    db.session.add(webhook)
    db.session.flush()
    audit(actor=actor, actor_label=actor_label, action="webhook.added", target=webhook.name,
          data={"url": webhook.url, "format": webhook.format})
    return webhook


CONFIG_PREFIX = "config-"


def sync_config_webhooks(*, urls: str, secret: str, allow_private: bool) -> list[Webhook]:
    """Make each URL of CRISIS_WEBHOOK_URLS (comma-separated, `teams=` prefix for a MessageCard) a webhook.

    Rows are named by a hash of the URL, so every process that syncs finds the same row; a URL
    dropped from the setting is switched off. A refused URL is skipped, never fatal.
    """
    wanted: dict[str, tuple[str, str]] = {}
    for entry in (part.strip() for part in urls.split(",")):
        if not entry:
            continue
        format, _, url = entry.partition("=") if entry.startswith(("teams=", "slack=")) else ("slack", "", entry)
        try:
            check_url(url, allow_private=allow_private)
        except DeliveryRefused as error:
            log.warning("CRISIS_WEBHOOK_URLS: skipping %s: %s", url, error)
            continue
        name = CONFIG_PREFIX + hashlib.sha256(f"{format}:{url}".encode()).hexdigest()[:12]
        wanted[name] = (url, format)
    rows = {w.name: w for w in db.session.scalars(select(Webhook).where(Webhook.name.startswith(CONFIG_PREFIX)))}
    for name, (url, format) in wanted.items():
        row = rows.get(name)
        if row is None:
            row = Webhook(name=name, url=url, format=format, secret=secret, active=True)
            db.session.add(row)
            rows[name] = row
        else:
            row.active, row.secret = True, secret
    for name, row in rows.items():
        if name not in wanted:
            row.active = False
    db.session.flush()
    return [rows[name] for name in wanted]


def list_webhooks() -> list[Webhook]:
    """Return every webhook, active or not, oldest first."""
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def set_webhook_active(*, name: str, active: bool, actor: Person | None = None, actor_label: str = "") -> Webhook:
    """Switch a webhook on or off (its past deliveries stay visible; audited)."""
    webhook = db.session.scalar(select(Webhook).where(Webhook.name == name))
    if webhook is None:
        raise NotFound(f"No webhook named {name!r}", field="name")
    webhook.active = active
    audit(actor=actor, actor_label=actor_label, action="webhook.enabled" if active else "webhook.disabled",
          target=webhook.name)
    return webhook


def get_webhook(webhook_id: int) -> Webhook:
    """Return a webhook by id or raise NotFound."""
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("There is no such webhook.", field="webhook")
    return webhook


def queue_test_message(*, webhook: Webhook, requested_by: str) -> Notification:
    """Put a test message for one webhook in the outbox (delivered by the next outbox run)."""
    if not webhook.active:
        raise Conflict(f"Webhook {webhook.name!r} is switched off", field="webhook")

    [row] = compose(
        recipients=[], subject="Test message from crisis",
        body=f"{requested_by} checked that crisis can reach this channel. No action needed.",
        incident=None, dedup_key=f"webhook-test:{webhook.id}:{uuid.uuid4().hex[:12]}", channels=("webhook",),
        link=None, webhooks=[webhook],
    )
    db.session.add(row)
    db.session.flush()
    audit(actor=None, actor_label=requested_by, action="webhook.tested", target=webhook.name)
    return row


def check_url(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """Return (scheme, host, port, path) of a deliverable URL, or raise DeliveryRefused."""
    scheme, host, port, path, _ = resolve_url(url, allow_private=allow_private)
    return scheme, host, port, path


def resolve_url(url: str, *, allow_private: bool) -> tuple[str, str, int, str, str]:
    """Return (scheme, host, port, path, address to connect to), or raise DeliveryRefused.

    Every address the host resolves to must be public unless private ones are allowed:
    a webhook must not become a way to reach the desk's own network. The caller connects to
    the address checked here, so a second lookup cannot swap in another (DNS rebinding).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise DeliveryRefused("webhook URLs must not carry credentials; use the secret instead")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DeliveryRefused(f"{url!r} has an invalid port") from None
    address = parts.hostname
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
        except socket.gaierror as error:
            raise DeliveryRefused(f"cannot resolve {parts.hostname}: {error.strerror}") from None
        for info in infos:
            found = ipaddress.ip_address(info[4][0].split("%")[0])
            if not is_public(found):
                raise DeliveryRefused(
                    f"{parts.hostname} resolves to {found}, a private, loopback or link-local address "
                    "(set CRISIS_WEBHOOK_ALLOW_PRIVATE=true to allow it)"
                )
        address = infos[0][4][0]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path, address


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Return whether an address, and every IPv4 address carried inside it, is global unicast."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if address.is_site_local:  # fec0::/10: deprecated, still routed inside some networks
        return False
    # Addresses that carry an IPv4 address: mapped, compatible, NAT64, 6to4, Teredo.
    carried = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in _IPV4_COMPATIBLE or any(address in network for network in _NAT64):
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return all(is_public(inner) for inner in carried if inner is not None)


def message_for(*, format: str, subject: str, body: str, link: str | None, incident: str | None, key: str) -> dict[str, Any]:
    """Return the JSON document for a webhook format: Slack-compatible text or a Teams MessageCard."""
    if format == "teams":
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": subject,
            "themeColor": "C0392B",
            "title": subject,
            "text": body.replace("\n", "\n\n"),
        }
        if link:
            card["potentialAction"] = [
                {"@type": "OpenUri", "name": "Open in crisis", "targets": [{"os": "default", "uri": link}]}
            ]
        return card
    text = f"*{subject}*\n{body}" + (f"\n<{link}|Open in crisis>" if link else "")
    return {"text": text, "crisis": {"subject": subject, "body": body, "link": link, "incident": incident, "key": key}}


def sign(body: bytes, secret: str) -> str:
    """Return the signature header value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a checked address, naming the host in the request and for TLS."""

    def __init__(self, host: str, port: int, *, address: str, tls: bool, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address
        self.tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        if self.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


@dataclass
class Response:
    status: int
    body: str


def post(*, url: str, document: Mapping[str, Any], secret: str, key: str, timeout: float, allow_private: bool) -> Response:
    """POST a JSON document once, signed, with its idempotency key; redirects are not followed."""
    scheme, host, port, path, address = resolve_url(url, allow_private=allow_private)
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "crisis-webhooks/1",
        IDEMPOTENCY_HEADER: key,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    connection = PinnedConnection(host, port, address=address, tls=scheme == "https", timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(status=response.status, body=response.read(2000).decode(errors="replace"))
    finally:
        connection.close()
