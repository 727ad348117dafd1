"""A loopback port finder and the mailbox the test SMTP server fills."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import Message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailBox:
    """Collects every message the SMTP server accepts, with its envelope.

    Messages are parsed as a mail client reads them (the default policy): encoded headers such
    as a Subject with typographic quotes come back as the text people see.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.original_content, policy=policy.default))
            )
        return "250 Message accepted for delivery"
