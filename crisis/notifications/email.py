"""Email over SMTP (smtplib), one message per outbox row."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any


def build_message(*, sender: str, to: str, subject: str, body: str, key: str) -> Message:
    """Return the email for one outbox row; its Message-ID derives from the row's dedup key.

    Built with the email package's compat32 classes (MIMEText, Header) rather than the
    EmailMessage class: its modern policy parses and refolds every header, about five times the CPU
    per message, and a burst of escalations is a thousand messages on the scheduler's cores.
    """
    if body.isascii():
        message = MIMEText(body, "plain", "us-ascii")
    else:
        charset = Charset("utf-8")
        charset.body_encoding = QP
        message = MIMEText(body, "plain", charset)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    message["Date"] = formatdate(usegmt=True)
    # The same row always produces the same Message-ID, so a resend after a crash is a duplicate
    # that mail systems and clients can recognise.
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = sender.rpartition("@")[2] or "crisis.invalid"
    message["Message-ID"] = f"<{digest}@{domain}>"
    message["X-Crisis-Idempotency-Key"] = key
    return message


def send(message: Message, *, config: Mapping[str, Any], timeout: float) -> None:
    """Send one message through the configured SMTP server; raise on any failure."""
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


class Connection:
    """One SMTP session reused for several messages (a burst costs one handshake per sender thread).

    Any failure closes the session, so the next message starts a fresh one; each message still
    succeeds or fails on its own.
    """

    def __init__(self, config: Mapping[str, Any], timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: Message) -> None:
        if self.smtp is None:
            smtp = smtplib.SMTP(self.config["SMTP_HOST"], int(self.config["SMTP_PORT"]), timeout=self.timeout)
            try:
                if self.config.get("SMTP_STARTTLS"):
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.get("SMTP_USER"):
                    smtp.login(self.config["SMTP_USER"], self.config.get("SMTP_PASSWORD") or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            # The session is fine; only this recipient was refused.
            self.smtp.rset()
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None
