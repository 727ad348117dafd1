"""notify(): which outbox rows one message becomes, and webhook management."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.extensions import db
from crisis.notifications.models import Notification, Webhook
from crisis.notifications.service import active_webhooks, notify
from crisis.notifications.webhooks import (
    add_webhook,
    list_webhooks,
    set_webhook_active,
    sync_config_webhooks,
)
from crisis.people.service import get_person


@pytest.fixture
def pair(app, make_person):
    return make_person("ana@example.com"), make_person("ben@example.com")


def rows(app):
    with app.app_context():
        return sorted(
            (n.channel, n.recipient.email if n.recipient else n.address, n.dedup_key, n.status)
            for n in db.session.scalars(select(Notification))
        )


def test_each_channel_and_person_gets_one_row(app, pair):
    with app.app_context():
        db.session.add(Webhook(name="desk", url="https://93.184.215.14/a"))
        people = [get_person(e) for e in pair]
        written = notify(recipients=people + people[:1], subject=" Hi ", body="Body", incident=None, dedup_key="m1")
        db.session.commit()
        assert len(written) == 5
    assert rows(app) == [
        ("email", "ana@example.com", "m1:email:1", "pending"),
        ("email", "ben@example.com", "m1:email:2", "pending"),
        ("in_app", "ana@example.com", "m1:in_app:1", "sent"),
        ("in_app", "ben@example.com", "m1:in_app:2", "sent"),
        ("webhook", "https://93.184.215.14/a", "m1:webhook:1", "pending"),
    ]


def test_the_same_dedup_key_twice_writes_nothing_more(app, pair):
    with app.app_context():
        people = [get_person(e) for e in pair]
        notify(recipients=people, subject="Hi", body="B", incident=None, dedup_key="same", channels=("in_app",))
        db.session.commit()
        again = notify(recipients=people, subject="Hi", body="B", incident=None, dedup_key="same", channels=("in_app",))
        db.session.commit()
        assert again == []
        assert db.session.scalar(select(func.count(Notification.id))) == 2


def test_preferences_and_inactive_people_are_honoured(app, pair):
    with app.app_context():
        ana, ben = (get_person(e) for e in pair)
        ana.notify_email = False
        ben.active = False
        notify(recipients=[ana, ben], subject="Hi", body="B", incident=None, dedup_key="p", channels=("email", "in_app"))
        db.session.commit()
    assert rows(app) == [("in_app", "ana@example.com", "p:in_app:1", "sent")]


def test_unknown_channel_is_refused_and_writes_nothing(app, pair):
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            notify(recipients=[get_person(pair[0])], subject="Hi", body="B", incident=None, dedup_key="x",
                   channels=("sms",))
        assert error.value.field == "channels"
        db.session.rollback()
    assert rows(app) == []


def test_long_dedup_keys_are_cut_to_fit_with_their_suffix(app, pair):
    with app.app_context():
        [row] = notify(recipients=[get_person(pair[0])], subject="Hi", body="B", incident=None,
                       dedup_key="k" * 400, channels=("in_app",))
        db.session.commit()
        assert len(row.dedup_key) == 200 and row.dedup_key.endswith(":in_app:1")


def test_add_webhook_validates_and_refuses_duplicates(app):
    with app.app_context():
        hook = add_webhook(name="comms", url="https://93.184.215.14/x", format="teams", secret="s")
        assert (hook.format, hook.active) == ("teams", True)
        for kwargs, field in [
            ({"name": "", "url": "https://93.184.215.14/y"}, "name"),
            ({"name": "n", "url": "https://93.184.215.14/y", "format": "irc"}, "format"),
            ({"name": "n", "url": "gopher://93.184.215.14/y"}, "url"),
            ({"name": "n", "url": "http://192.168.1.10/y"}, "url"),
            ({"name": "n", "url": "https://user:pw@93.184.215.14/y"}, "url"),
        ]:
            with pytest.raises(InvalidInput) as error:
                add_webhook(**kwargs)
            assert error.value.field == field
        with pytest.raises(Conflict):
            add_webhook(name="comms", url="https://93.184.215.14/z")
        assert add_webhook(name="local", url="http://127.0.0.1:9/x", allow_private=True).url == "http://127.0.0.1:9/x"
        db.session.commit()
        assert [w.name for w in list_webhooks()] == ["comms", "local"]
        set_webhook_active(name="local", active=False)
        assert [w.name for w in active_webhooks()] == ["comms"]
        with pytest.raises(NotFound):
            set_webhook_active(name="nope", active=False)


def test_config_webhooks_sync_to_rows_once(app):
    with app.app_context():
        urls = "https://93.184.215.14/a, teams=https://93.184.215.14/b,http://10.0.0.1/private"
        first = sync_config_webhooks(urls=urls, secret="env-secret", allow_private=False)
        db.session.commit()
        assert [(w.url, w.format, w.secret) for w in first] == [
            ("https://93.184.215.14/a", "slack", "env-secret"),
            ("https://93.184.215.14/b", "teams", "env-secret"),
        ]
        again = sync_config_webhooks(urls=urls, secret="env-secret", allow_private=False)
        db.session.commit()
        assert [w.id for w in again] == [w.id for w in first]
        sync_config_webhooks(urls="https://93.184.215.14/a", secret="", allow_private=False)
        db.session.commit()
        assert [w.url for w in active_webhooks()] == ["https://93.184.215.14/a"]


def test_the_same_url_registered_twice_is_posted_once(app):
    with app.app_context():
        db.session.add_all([Webhook(name="a", url="https://93.184.215.14/a"),
                            Webhook(name="b", url="https://93.184.215.14/a")])
        db.session.commit()
        assert [w.name for w in active_webhooks()] == ["a"]


def test_email_subject_names_the_incident_once(app, pair):
    from tests.support.builders import incident, playbook_version

    with app.app_context():
        item = incident(playbook_version())
        person = get_person(pair[0])
        plain, named = (
            notify(recipients=[person], subject=subject, body="B", incident=item, dedup_key=key, channels=("email",))[0]
            for key, subject in (("s1", "Approval overdue"), ("s2", f"[{item.ref}] approval overdue"))
        )
        assert plain.subject == f"[crisis] {item.ref} Approval overdue"
        assert named.subject == f"[crisis] [{item.ref}] approval overdue"
        assert "Open it in crisis" not in plain.body, "no link given, none shown"
