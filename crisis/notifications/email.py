"""Email over SMTP (smtplib), one message per outbox row."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any


def build_message(*, sender: str, to: str, subject: str, body: str, key: str) -> EmailMessage:
    """Return the email for one outbox row; its Message-ID derives from the row's dedup key."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # The same row always produces the same Message-ID, so a resend after a crash is a duplicate
    # that mail systems and clients can recognise.
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = sender.rpartition("@")[2] or "crisis.invalid"
    message["Message-ID"] = f"<{digest}@{domain}>"
    message["X-Crisis-Idempotency-Key"] = key
    message.set_content(body)
    return message


def send(message: EmailMessage, *, config: Mapping[str, Any], timeout: float) -> None:
    """Send one message through the configured SMTP server; raise on any failure."""
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
