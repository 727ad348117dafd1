"""The alerts domain without HTTP: dedup under concurrency, fallbacks, confirm, dismiss, report."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crisis.alerts.models import Alert
from crisis.alerts.service import (
    Signal,
    confirm_alert,
    dismiss_alert,
    get_alert,
    guess_platform,
    receive_signal,
    report_alert,
)
from crisis.errors import Conflict, Forbidden, InvalidInput, NotFound
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.notifications.models import Notification
from crisis.people.service import get_person
from crisis.timeline.models import TimelineEvent


def spike(key: str = "fp-1", action: str = "trigger", **labels: str) -> Signal:
    return Signal(
        intake="alertmanager", action=action, dedup_key=key, title="Mentions up 900%",
        raw_severity="critical",
        attributes={"alertname": "MentionSpike", "intake": "alertmanager", **labels},
    )


def quiet(key: str = "fp-q") -> Signal:
    return Signal(intake="alertmanager", action="trigger", dedup_key=key, title="Sentiment drift",
                  raw_severity="warning", attributes={"alertname": "Drift", "intake": "alertmanager"})


def test_concurrent_deliveries_of_one_alert_open_one_incident(app, team, synced):
    workers = 5
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                receive_signal(signal=spike(), received_by=None, actor_label="alertmanager")
                db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Incident)) == 1
        [alert] = db.session.scalars(select(Alert)).all()
        assert alert.occurrences == workers
        kinds = db.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.kind == "alert.received"))
        assert len(list(kinds)) == workers


def test_the_database_refuses_a_second_live_row_for_one_key(app, team):
    with app.app_context():
        for _ in range(2):
            db.session.add(Alert(intake="events", dedup_key="k", live_key="events:k", title="t", severity="SEV3"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_invalid_rules_keep_every_alert_pending_with_the_reason(app, team, synced, tmp_path):
    broken = tmp_path / "routing.yaml"
    broken.write_text("defaults: {mode: whenever}\n")
    app.config["ALERT_RULES"] = str(broken)
    with app.app_context():
        alert = receive_signal(signal=spike(), received_by=None)
        db.session.commit()

        assert alert.disposition == "pending"
        assert alert.routing_note.startswith("routing rules are invalid (")
        assert "field 'defaults.mode'" in alert.routing_note
        assert db.session.scalar(select(db.func.count()).select_from(Incident)) == 0


def test_a_missing_rules_file_keeps_alerts_pending(app, team, synced, tmp_path):
    app.config["ALERT_RULES"] = str(tmp_path / "absent.yaml")
    with app.app_context():
        alert = receive_signal(signal=spike(), received_by=None)

        assert alert.disposition == "pending"
        assert "is missing" in alert.routing_note
        assert alert.playbook_key is None


def test_an_open_rule_whose_playbook_is_not_synced_leaves_a_pending_alert(app, team):
    with app.app_context():  # no playbooks synced
        alert = receive_signal(signal=spike(), received_by=None)
        db.session.commit()

        assert alert.disposition == "pending"
        assert alert.routing_note.startswith("could not open an incident: There is no playbook “viral-complaint”")
        assert alert.rule == "mention-spike"  # the routing survives the failed declare
        assert db.session.scalar(select(db.func.count()).select_from(Incident)) == 0


def test_an_unknown_triage_owner_in_the_rules_opens_without_one(app, team, synced, tmp_path):
    rules = tmp_path / "routing.yaml"
    rules.write_text("defaults: {playbook: viral-complaint, mode: open, triage_owner: gone@example.com}\n")
    app.config["ALERT_RULES"] = str(rules)
    with app.app_context():
        alert = receive_signal(signal=quiet(), received_by=None)

        assert alert.disposition == "incident"
        assert alert.routing_note == "triage owner gone@example.com is not a person here; opened without one"
        # declare_incident falls back to the playbook's triage roster.
        assert alert.incident.triage_owner.email == team.lead


def test_a_pending_alert_notifies_the_triage_lead(app, team, synced):
    with app.app_context():
        alert = receive_signal(signal=quiet(), received_by=None)
        db.session.commit()
        rows = db.session.scalars(select(Notification).where(Notification.recipient_id.is_not(None))).all()

        assert alert.disposition == "pending"
        assert {n.recipient.email for n in rows} == {team.lead}
        assert all(n.subject.endswith("Alert to triage: Sentiment drift") for n in rows)


def test_confirm_opens_the_incident_with_the_persons_choices(app, team, synced):
    with app.app_context():
        alert = receive_signal(signal=quiet(), received_by=None)
        lead = get_person(team.lead)

        incident = confirm_alert(alert=alert, actor=lead, playbook_key="off-script-post", severity="SEV2",
                                 title="Negative sentiment drift after the CEO's interview")
        db.session.commit()

        assert incident.playbook_version.key == "off-script-post"
        assert incident.severity == "SEV2"
        assert incident.declared_by.email == team.lead
        assert alert.disposition == "incident" and alert.incident_id == incident.id
        assert alert.decided_by.email == team.lead
        events = db.session.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id,
                                                               TimelineEvent.kind == "alert.received")).all()
        assert [e.actor.email for e in events] == [team.lead]


def test_a_second_decision_is_a_conflict_and_changes_nothing(app, team, synced):
    with app.app_context():
        alert = receive_signal(signal=quiet(), received_by=None)
        lead = get_person(team.lead)
        dismiss_alert(alert=alert, actor=lead, reason="Normal weekend noise")
        db.session.commit()

        with pytest.raises(Conflict, match="already dismissed"):
            confirm_alert(alert=alert, actor=get_person(team.triage_backup))
        db.session.rollback()
        with pytest.raises(Conflict):
            dismiss_alert(alert=get_alert(alert.id), actor=lead)

        assert get_alert(alert.id).dismiss_reason == "Normal weekend noise"
        assert db.session.scalar(select(db.func.count()).select_from(Incident)) == 0


def test_deciding_needs_the_declare_permission(app, team, synced):
    with app.app_context():
        alert = receive_signal(signal=quiet(), received_by=None)
        viewer = get_person(team.viewer)

        with pytest.raises(Forbidden):
            confirm_alert(alert=alert, actor=viewer)
        with pytest.raises(Forbidden):
            dismiss_alert(alert=alert, actor=viewer)
        assert get_alert(alert.id).disposition == "pending"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"severity": "SEV9"}, "severity"),
        ({"title": "   "}, "title"),
        ({"triage_owner_email": "nobody@example.com"}, "triage_owner"),
        ({"playbook_key": "no-such-playbook"}, "playbook"),
    ],
)
def test_bad_confirm_input_names_the_field(app, team, synced, changes, field):
    with app.app_context():
        alert = receive_signal(signal=quiet(), received_by=None)
        db.session.commit()

        with pytest.raises((InvalidInput, NotFound)) as caught:
            confirm_alert(alert=alert, actor=get_person(team.lead), **changes)
        db.session.rollback()

        assert caught.value.field == field
        assert get_alert(alert.id).disposition == "pending"


def test_a_dismissed_alert_absorbs_repeats_until_resolved_then_a_new_one_starts(app, team, synced):
    with app.app_context():
        first = receive_signal(signal=quiet(), received_by=None)
        dismiss_alert(alert=first, actor=get_person(team.lead))
        db.session.commit()

        assert receive_signal(signal=quiet(), received_by=None).id == first.id
        receive_signal(signal=Signal(intake="alertmanager", action="resolve", dedup_key="fp-q"), received_by=None)
        again = receive_signal(signal=quiet(), received_by=None)
        db.session.commit()

        assert again.id != first.id
        assert again.disposition == "pending"
        assert get_alert(first.id).occurrences == 2


def test_confirming_attaches_the_pending_alerts_of_the_same_group(app, team, synced):
    with app.app_context():
        one = receive_signal(signal=Signal(**{**quiet("a").__dict__, "group_key": "g"}), received_by=None)
        two = receive_signal(signal=Signal(**{**quiet("b").__dict__, "group_key": "g"}), received_by=None)
        assert two.disposition == "pending"

        incident = confirm_alert(alert=one, actor=get_person(team.lead))
        db.session.commit()

        assert get_alert(two.id).incident_id == incident.id


def test_bad_signals_are_refused(app, team):
    with app.app_context():
        with pytest.raises(InvalidInput) as caught:
            receive_signal(signal=spike(key="k" * 256), received_by=None)
        assert caught.value.field == "dedup_key"
        with pytest.raises(InvalidInput):
            receive_signal(signal=spike(action="snooze"), received_by=None)


def test_a_report_is_a_pending_alert_of_the_reporter(app, team, synced):
    with app.app_context():
        viewer = get_person(team.viewer)
        alert = report_alert(reporter=viewer, url="https://www.tiktok.com/@someone/video/73000001",
                             concern="A customer says our kettle caught fire\nmore detail")
        db.session.commit()

        assert alert.intake == "report"
        assert alert.disposition == "pending"
        assert alert.reported_by.email == team.viewer
        assert alert.title == "A customer says our kettle caught fire"
        assert alert.labels == {"intake": "report", "platform": "tiktok"}
        assert alert.rule == "employee-report"
        assert alert.links == [{"platform": "tiktok", "url": "https://www.tiktok.com/@someone/video/73000001"}]


def test_a_second_report_of_the_same_link_joins_the_incident_of_the_first(app, team, synced):
    with app.app_context():
        first = report_alert(reporter=get_person(team.viewer), url="https://x.com/a/status/1")
        incident = confirm_alert(alert=first, actor=get_person(team.lead))
        second = report_alert(reporter=get_person(team.care), url="https://www.x.com/a/status/1/")
        db.session.commit()

        assert second.incident_id == incident.id
        assert second.reported_by.email == team.care


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "x.com/a"}, "url"),
        ({"url": "https://x.com/" + "a" * 2000}, "url"),
        ({"concern": "c" * 4001}, "concern"),
        ({"url": "https://x.com/a", "platform": "p" * 51}, "platform"),
    ],
)
def test_bad_reports_name_the_field_and_store_nothing(app, team, fields, field):
    with app.app_context():
        with pytest.raises(InvalidInput) as caught:
            report_alert(reporter=get_person(team.viewer), **fields)

        assert caught.value.field == field
        assert db.session.scalar(select(db.func.count()).select_from(Alert)) == 0


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://x.com/a/status/1", "x"),
        ("https://mobile.twitter.com/a", "x"),
        ("https://m.facebook.com/story", "facebook"),
        ("https://www.youtube.com/watch?v=1", "youtube"),
        ("https://example.org/blog", ""),
    ],
)
def test_the_platform_is_guessed_from_the_link(url, platform):
    assert guess_platform(url) == platform


def test_a_pending_group_notifies_the_triage_lead_once(app, team, synced):
    with app.app_context():
        for key in ("a", "b", "c"):
            receive_signal(signal=Signal(**{**quiet(key).__dict__, "group_key": "g"}), received_by=None)
        db.session.commit()
        in_app = db.session.scalars(select(Notification).where(Notification.channel == "in_app")).all()

        assert len(in_app) == 1
        assert db.session.scalar(select(db.func.count()).select_from(Alert)) == 3
