"""The inbox (bell count, mark read, preferences), /admin/deliveries, and the webhooks CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crisis.extensions import db
from crisis.notifications.models import Notification, Webhook
from crisis.notifications.service import notify
from crisis.people.service import get_person


def message(app, email, key, *, subject="Step overdue", channels=("in_app",)):
    with app.app_context():
        [row] = notify(recipients=[get_person(email)], subject=subject, body=f"Body of {key}", incident=None,
                       dedup_key=key, channels=channels)
        db.session.commit()
        return row.id


@pytest.fixture
def ana(make_person, login):
    email = make_person("ana@example.com", permissions=("respond", "view"))
    login(email)
    return email


def test_inbox_empty_state(client, ana):
    page = client.get("/notifications").get_data(as_text=True)
    assert "Nothing yet" in page and 'data-unread' not in page
    assert "How you are notified" in page


def test_bell_counts_unread_and_marking_read_clears_it(app, client, ana, make_person):
    first = message(app, ana, "a", subject="First overdue")
    message(app, ana, "b", subject="Second overdue")
    other = make_person("ben@example.com")
    message(app, other, "c", subject="Not for Ana")
    page = client.get("/notifications").get_data(as_text=True)
    assert '<span class="badge" data-unread>2</span>' in page
    assert "First overdue" in page and "Second overdue" in page and "Not for Ana" not in page
    response = client.post(f"/notifications/{first}/read")
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")
    assert '<span class="badge" data-unread>1</span>' in client.get("/notifications").get_data(as_text=True)
    client.post(f"/notifications/{first}/read")  # again: nothing changes
    response = client.post("/notifications/read-all", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Marked 1 notification read." in page and "data-unread" not in page and "All read." in page


def test_someone_elses_notification_cannot_be_marked(app, client, ana, make_person):
    theirs = message(app, make_person("ben@example.com"), "x")
    back = {"Referer": "http://localhost/notifications"}
    response = client.post(f"/notifications/{theirs}/read", headers=back, follow_redirects=True)
    assert response.status_code == 200 and "someone else" in response.get_data(as_text=True)
    response = client.post("/notifications/999999/read", headers=back, follow_redirects=True)
    assert response.status_code == 200 and "There is no such notification." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Notification, theirs).read_at is None


def test_preferences_are_saved_and_honoured(app, client, ana):
    response = client.post("/notifications/preferences", data={"in_app": "on"}, follow_redirects=True)
    assert "Notification preferences saved." in response.get_data(as_text=True)
    with app.app_context():
        person = get_person(ana)
        assert (person.notify_email, person.notify_in_app) == (False, True)
        rows = notify(recipients=[person], subject="S", body="B", incident=None, dedup_key="pref")
        assert [r.channel for r in rows] == ["in_app"]
        db.session.rollback()


def test_inbox_needs_a_login(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def failed_delivery(app, make_person):
    email = make_person("ben@example.com")
    row_id = message(app, email, "boom", channels=("email",))
    with app.app_context():
        row = db.session.get(Notification, row_id)
        row.status, row.attempts, row.last_error, row.next_attempt_at = "failed", 10, "ConnectionRefusedError", None
        db.session.commit()
    return row_id


def test_admin_sees_failed_deliveries_and_can_retry(app, client, make_person, login, failed_delivery, clock):
    login(make_person("root@example.com", permissions=("admin",)))
    page = client.get("/admin/deliveries").get_data(as_text=True)
    assert "ben@example.com" in page and "ConnectionRefusedError" in page and "failed" in page
    response = client.post(f"/admin/deliveries/{failed_delivery}/retry", follow_redirects=True)
    assert "queued again" in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Notification, failed_delivery)
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, clock.current)
    response = client.post(f"/admin/deliveries/{failed_delivery}/retry", follow_redirects=True,
                           headers={"Referer": "http://localhost/admin/deliveries"})
    assert "Only a failed delivery can be retried" in response.get_data(as_text=True)
    page = client.get("/admin/deliveries?show=failed").get_data(as_text=True)
    assert "All delivered" in page


@pytest.mark.parametrize("permissions", [("view",), ("respond", "approve", "publish", "declare")])
def test_deliveries_page_is_for_admins_only(client, make_person, login, failed_delivery, permissions):
    login(make_person("someone@example.com", permissions=permissions))
    assert client.get("/admin/deliveries").status_code == 403
    assert client.post(f"/admin/deliveries/{failed_delivery}/retry").status_code == 403


def test_webhooks_cli_add_list_disable(app, runner):
    result = runner.invoke(args=["webhooks", "list"])
    assert "no webhooks" in result.output
    result = runner.invoke(args=["webhooks", "add", "desk", "https://93.184.215.14/hook", "--format", "teams",
                                 "--secret", "abc"])
    assert result.exit_code == 0 and "added webhook desk -> https://93.184.215.14/hook (teams, signed)" in result.output
    result = runner.invoke(args=["webhooks", "list"])
    assert "desk\tteams\tactive\tsigned\thttps://93.184.215.14/hook" in result.output
    assert runner.invoke(args=["webhooks", "disable", "desk"]).exit_code == 0
    assert "desk\tteams\toff" in runner.invoke(args=["webhooks", "list"]).output
    assert runner.invoke(args=["webhooks", "enable", "desk"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message_part"),
    [
        (["desk2", "http://127.0.0.1:8080/x"], "private, loopback or link-local"),
        (["desk2", "not a url"], "not an http(s) URL"),
        (["", "https://93.184.215.14/x"], "Name must be"),
    ],
)
def test_webhooks_cli_refuses_bad_input(app, runner, args, message_part):
    result = runner.invoke(args=["webhooks", "add", *args])
    assert result.exit_code != 0 and message_part in result.output
    with app.app_context():
        assert db.session.scalars(select(Webhook)).all() == []


def test_webhooks_cli_format_is_checked_by_click(runner):
    result = runner.invoke(args=["webhooks", "add", "x", "https://93.184.215.14/x", "--format", "irc"])
    assert result.exit_code == 2 and "irc" in result.output


@pytest.fixture
def admin(make_person, login):
    email = make_person("root@example.com", permissions=("admin",))
    login(email)
    return email


def test_admin_adds_switches_and_tests_a_webhook(app, client, admin, receiver):
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert "No webhooks yet" in page
    response = client.post("/admin/webhooks", data={"name": "desk", "url": receiver.url, "format": "teams",
                                                    "secret": "s3"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Webhook desk added" in page and receiver.url in page and "teams" in page
    with app.app_context():
        hook_id = db.session.scalar(select(Webhook.id))
    response = client.post(f"/admin/webhooks/{hook_id}/test", follow_redirects=True)
    assert "test message to desk is in the outbox" in response.get_data(as_text=True)
    from crisis.notifications.delivery import deliver_due

    with app.app_context():
        assert deliver_due().sent == 1
    [request] = receiver.requests
    assert request["json"]["title"] == "Test message from crisis" and "root@example.com" in request["json"]["text"]
    client.post(f"/admin/webhooks/{hook_id}/active", data={})
    with app.app_context():
        assert db.session.get(Webhook, hook_id).active is False
    response = client.post(f"/admin/webhooks/{hook_id}/test", follow_redirects=True,
                           headers={"Referer": "http://localhost/admin/webhooks"})
    assert "switched off" in response.get_data(as_text=True)
    client.post(f"/admin/webhooks/{hook_id}/active", data={"active": "on"})
    with app.app_context():
        assert db.session.get(Webhook, hook_id).active is True


def test_a_bad_webhook_form_keeps_what_was_typed_and_adds_nothing(app, client, admin):
    response = client.post("/admin/webhooks", data={"name": "desk", "url": "http://10.0.0.5/hook", "secret": "zzz"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "private, loopback or link-local" in page and 'value="desk"' in page and "zzz" not in page
    with app.app_context():
        assert db.session.scalars(select(Webhook)).all() == []


def test_webhooks_page_is_for_admins_only(client, make_person, login):
    login(make_person("someone@example.com", permissions=("respond", "view")))
    assert client.get("/admin/webhooks").status_code == 403
    assert client.post("/admin/webhooks", data={"name": "x", "url": "https://93.184.215.14/x"}).status_code == 403
