"""Outbox delivery against real receivers: SMTP on loopback and an HTTP webhook endpoint."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from crisis.escalation.engine import run_sweep
from crisis.extensions import db
from crisis.notifications.delivery import backoff, deliver_due
from crisis.notifications.models import Notification, Webhook
from crisis.notifications.service import notify
from crisis.notifications.webhooks import DeliveryRefused, check_url
from crisis.people.service import get_person
from tests.support.mail import free_port


@pytest.fixture
def people(make_person):
    return [
        make_person("ana@example.com", permissions=("respond", "view")),
        make_person("ben@example.com", permissions=("respond", "view")),
    ]


def send(app, emails, *, key="k1", channels=("email",), subject="Step overdue", body="Please act."):
    with app.app_context():
        rows = notify(
            recipients=[get_person(e) for e in emails], subject=subject, body=body, incident=None,
            dedup_key=key, channels=channels, link="http://desk.example/incidents/INC-2026-0001",
        )
        db.session.commit()
        return [r.dedup_key for r in rows]


def statuses(app) -> dict[str, tuple[str, int]]:
    with app.app_context():
        return {n.dedup_key: (n.status, n.attempts) for n in db.session.scalars(select(Notification))}


def add_hook(app, url, *, format="slack", secret="s3cret", name="desk"):
    with app.app_context():
        db.session.add(Webhook(name=name, url=url, format=format, secret=secret))
        db.session.commit()


def test_email_arrives_with_recipient_subject_and_body(app, people, smtp_server):
    send(app, people)
    with app.app_context():
        result = deliver_due()
    assert (result.attempted, result.sent) == (2, 2)
    by_rcpt = {rcpts[0]: (sender, message) for sender, rcpts, message in smtp_server.messages}
    assert sorted(by_rcpt) == ["ana@example.com", "ben@example.com"]
    sender, message = by_rcpt["ana@example.com"]
    assert sender == "desk@crisis.example" and message["To"] == "ana@example.com"
    assert message["Subject"] == "[crisis] Step overdue"
    text = message.get_payload(decode=True).decode()
    assert "Hello Ana," in text and "Please act." in text
    assert "http://desk.example/incidents/INC-2026-0001" in text
    assert message["X-Crisis-Idempotency-Key"] == "k1:email:1"
    assert statuses(app) == {"k1:email:1": ("sent", 1), "k1:email:2": ("sent", 1)}
    with app.app_context():
        assert deliver_due().attempted == 0, "a sent row is never sent again"
    assert len(smtp_server.messages) == 2


def test_slack_webhook_is_signed_and_carries_the_idempotency_key(app, people, receiver):
    add_hook(app, receiver.url)
    send(app, people, channels=("webhook",), key="esc:7:2")
    with app.app_context():
        assert deliver_due().sent == 1
    [request] = receiver.requests
    assert request["path"] == "/hooks/crisis"
    assert request["headers"]["Idempotency-Key"] == "esc:7:2:webhook:1"
    expected = "sha256=" + hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Crisis-Signature"] == expected
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["json"]["text"].startswith("*Step overdue*\nPlease act.")
    assert request["json"]["crisis"]["link"] == "http://desk.example/incidents/INC-2026-0001"


def test_teams_webhook_gets_a_message_card(app, people, receiver):
    add_hook(app, receiver.url, format="teams", secret="")
    send(app, people, channels=("webhook",))
    with app.app_context():
        assert deliver_due().sent == 1
    [request] = receiver.requests
    card = request["json"]
    assert card["@type"] == "MessageCard" and card["title"] == "Step overdue"
    assert card["potentialAction"][0]["targets"][0]["uri"] == "http://desk.example/incidents/INC-2026-0001"
    assert "X-Crisis-Signature" not in request["headers"], "no secret, no signature"


def test_receiver_down_then_up_gets_each_notification_once(app, people, receiver, clock):
    add_hook(app, receiver.url)
    for n in range(3):
        send(app, people, channels=("webhook",), key=f"msg-{n}")
    receiver.down = True
    with app.app_context():
        first = deliver_due()
    assert (first.attempted, first.retrying, first.sent) == (3, 3, 0)
    with app.app_context():
        row = db.session.scalar(select(Notification).where(Notification.dedup_key == "msg-0:webhook:1"))
        assert row.last_error.startswith("HTTP 503") and row.next_attempt_at == clock.current + timedelta(seconds=30)
        assert deliver_due().attempted == 0, "nothing is retried before its backoff"
    clock.advance(seconds=30)
    with app.app_context():
        assert deliver_due().retrying == 3
        row = db.session.scalar(select(Notification).where(Notification.dedup_key == "msg-0:webhook:1"))
        assert row.next_attempt_at == clock.current + timedelta(seconds=60), "the wait doubles"
    receiver.down = False
    clock.advance(seconds=60)
    with app.app_context():
        assert deliver_due().sent == 3
        clock.advance(hours=1)
        assert deliver_due().attempted == 0
    assert sorted(receiver.keys()) == ["msg-0:webhook:1", "msg-1:webhook:1", "msg-2:webhook:1"]
    assert set(statuses(app).values()) == {("sent", 3)}


def test_smtp_down_backs_off_then_fails_and_shows_the_error(app, people, clock):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), DELIVERY_MAX_ATTEMPTS=4)
    send(app, people[:1])
    waits = []
    for _ in range(4):
        with app.app_context():
            deliver_due()
            row = db.session.scalar(select(Notification))
            if row.next_attempt_at is not None:
                waits.append(row.next_attempt_at - clock.current)
                clock.set(row.next_attempt_at)
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    with app.app_context():
        row = db.session.scalar(select(Notification))
        assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 4, None)
        assert "ConnectionRefusedError" in row.last_error
        clock.advance(days=1)
        assert deliver_due().attempted == 0


def test_backoff_doubles_from_30_seconds_up_to_30_minutes():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_slow_receiver_times_out_and_is_retried(app, people, receiver):
    app.config["SEND_TIMEOUT"] = 0.3
    add_hook(app, receiver.url)
    send(app, people, channels=("webhook",))
    gate = threading.Event()
    original = receiver.server.RequestHandlerClass.do_POST

    def stall(handler):
        gate.wait(5)
        original(handler)

    receiver.server.RequestHandlerClass.do_POST = stall
    with app.app_context():
        result = deliver_due()
    gate.set()
    assert result.retrying == 1
    with app.app_context():
        assert "timed out" in db.session.scalar(select(Notification.last_error))


def test_private_webhook_addresses_are_refused_unless_allowed(app, people):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url in ("http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x",
                "http://localhost/x"):
        with pytest.raises(DeliveryRefused):
            check_url(url, allow_private=False)
    with pytest.raises(DeliveryRefused):
        check_url("ftp://example.com/x", allow_private=True)
    assert check_url("http://127.0.0.1:8080/x?a=1", allow_private=True) == ("http", "127.0.0.1", 8080, "/x?a=1")
    # A row already in the outbox for a private address fails at once, without retries.
    add_hook(app, "http://127.0.0.1:9/hook")
    send(app, people, channels=("webhook",))
    with app.app_context():
        assert deliver_due().failed == 1
        row = db.session.scalar(select(Notification))
        assert row.status == "failed" and row.last_error.startswith("refused:")


def test_switched_off_webhook_is_not_delivered(app, people, receiver):
    add_hook(app, receiver.url)
    send(app, people, channels=("webhook",))
    with app.app_context():
        db.session.scalar(select(Webhook)).active = False
        db.session.commit()
        assert deliver_due().failed == 1
    assert receiver.requests == []


def test_two_deliverers_at_once_send_each_row_once(app, make_person, receiver, smtp_server):
    emails = [make_person(f"p{n}@example.com") for n in range(20)]
    add_hook(app, receiver.url)
    for n in range(10):
        send(app, emails, channels=("email", "webhook"), key=f"burst-{n}")
    barrier = threading.Barrier(2)
    errors = []

    def deliver():
        try:
            with app.app_context():
                barrier.wait()
                while deliver_due(limit=20).attempted:
                    pass
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(smtp_server.messages) == 200
    assert len({m["X-Crisis-Idempotency-Key"] for _, _, m in smtp_server.messages}) == 200
    assert sorted(receiver.keys()) == sorted(f"burst-{n}:webhook:1" for n in range(10))


def test_the_sweep_only_writes_the_outbox_and_delivery_sends_it(app, make_person, smtp_server, receiver, clock):
    from tests.support.builders import incident, playbook_version, step

    owner = make_person("owner@example.com")
    add_hook(app, receiver.url)
    with app.app_context():
        version = playbook_version()
        row = step(incident(version), owner=get_person(owner))
        db.session.commit()
        ref = row.incident.ref
    clock.advance(minutes=25)
    with app.app_context():
        assert run_sweep().escalated == 2
    assert smtp_server.messages == [] and receiver.requests == [], "a sweep never waits on a receiver"
    with app.app_context():
        assert deliver_due().sent == 2
    [(_, rcpts, message)] = smtp_server.messages
    assert rcpts == ["owner@example.com"]
    assert message["Subject"] == f"[crisis] {ref} Overdue (level 1): Respond"
    assert f"/incidents/{ref}" in message.get_payload(decode=True).decode()
    [request] = receiver.requests
    assert request["headers"]["Idempotency-Key"] == f"escalation:{row.id}:2:webhook:1"
    assert "Overdue (level 2)" in request["json"]["text"]


def test_a_burst_drains_in_one_run(app, make_person, smtp_server):
    emails = [make_person(f"r{n}@example.com") for n in range(30)]
    send(app, emails, key="burst-a")
    send(app, emails, key="burst-b")
    with app.app_context():
        result = deliver_due(limit=25)
    assert (result.attempted, result.sent) == (60, 60)
    assert len(smtp_server.messages) == 60


def test_smtp_login_is_used_when_configured(app, people):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.support.mail import MailBox

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"mail-pass")

    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_USER="desk", SMTP_PASSWORD="mail-pass")
        send(app, people[:1], key="auth")
        with app.app_context():
            assert deliver_due().sent == 1
    finally:
        controller.stop()
    assert [(user, password) for _, user, password in logins] == [(b"desk", b"mail-pass")]
    assert [rcpts for _, rcpts, _ in box.messages] == [["ana@example.com"]]


def test_a_garbled_http_answer_is_a_failed_attempt_not_a_crash(app, people, receiver):
    add_hook(app, receiver.url)
    send(app, people, channels=("webhook",))

    def garble(handler):
        handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        handler.wfile.write(b"this is not HTTP\r\n\r\n")

    receiver.server.RequestHandlerClass.do_POST = garble
    with app.app_context():
        assert deliver_due().retrying == 1
        assert db.session.scalar(select(Notification.last_error)).startswith(("BadStatusLine", "RemoteDisconnected"))
