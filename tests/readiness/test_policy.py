"""The social media policy: versions, acknowledgement per version, reminders, who has not read it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.extensions import db
from crisis.notifications.models import Notification
from crisis.people.service import get_person
from crisis.policy import service
from crisis.policy.models import PolicyAcknowledgement, PolicyVersion
from crisis.training.models import TrainingCompletion


def _publish(app, body: str) -> int:
    with app.app_context():
        version = service.publish_policy(body=body, actor=None, actor_label="test")
        db.session.commit()
        return version.number


def test_each_person_acknowledges_each_version(app, team, client, login, count):
    assert _publish(app, "# Policy\nReport what you spot.") == 1
    login(team.care)
    page = client.get("/policy").get_data(as_text=True)
    assert "Please read this version" in page and "/alerts/report" in page
    done = client.post("/policy/acknowledge", data={"version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "you acknowledged version 1" in done
    assert "You acknowledged this version" in client.get("/policy").get_data(as_text=True)
    again = client.post("/policy/acknowledge", data={"version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "already acknowledged version 1" in again
    assert count(PolicyAcknowledgement) == 1

    assert _publish(app, "# Policy\nReport what you spot to the social media manager.") == 2
    assert "Please read this version" in client.get("/policy").get_data(as_text=True)
    stale = client.post("/policy/acknowledge", data={"version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Version 1 is not in force; read and acknowledge version 2" in stale
    assert count(PolicyAcknowledgement) == 1
    client.post("/policy/acknowledge", data={"version": "2"})
    with app.app_context():
        acks = db.session.execute(select(PolicyVersion.number, PolicyAcknowledgement.person_id).join(PolicyVersion)).all()
        assert sorted(number for number, _ in acks) == [1, 2]
        # Acknowledging is the policy course's completion.
        sources = db.session.scalars(select(TrainingCompletion.course_key)).all()
        assert sources == ["social-media-policy", "social-media-policy"]


def test_admins_see_who_has_not_acknowledged(app, team, client, login):
    _publish(app, "# Policy")
    with app.app_context():
        service.acknowledge_policy(person=get_person(team.legal), number=1)
        db.session.commit()
        missing = {p.email for p in service.not_acknowledged(version=service.current_policy())}
    assert team.legal not in missing and team.care in missing and len(missing) == 11
    login(team.admin)
    page = client.get("/policy").get_data(as_text=True)
    assert "Not acknowledged yet (11)" in page and "Care" in page


def test_people_are_reminded_weekly_until_they_acknowledge(app, team, clock):
    _publish(app, "# Policy")
    with app.app_context():
        assert service.send_policy_reminders() == 12
        db.session.commit()
        assert service.send_policy_reminders() == 0  # same week: nothing new
        service.acknowledge_policy(person=get_person(team.care), number=1)
        db.session.commit()
    clock.advance(days=7)
    with app.app_context():
        assert service.send_policy_reminders() == 11
        db.session.commit()
        reminded = db.session.scalars(select(Notification).where(Notification.dedup_key.like("policy:1:%"))).all()
        assert all("acknowledge the social media policy (version 1)" in n.subject for n in reminded)


def test_bad_policy_input_changes_nothing(app, team, client, login, count):
    with app.app_context():
        with pytest.raises(NotFound):
            service.acknowledge_policy(person=get_person(team.care), number=1)
        with pytest.raises(InvalidInput) as empty:
            service.publish_policy(body="  ", actor=None)
        assert empty.value.field == "body"
    _publish(app, "# Policy")
    with app.app_context(), pytest.raises(Conflict):
        service.publish_policy(body="# Policy", actor=None)
    login(team.care)
    assert client.post("/policy/publish", data={"body": "# Mine"}).status_code == 403
    client.post("/policy/acknowledge", data={"version": "two"})
    assert count(PolicyVersion) == 1 and count(PolicyAcknowledgement) == 0


def test_the_cli_publishes_the_shipped_policy_and_reports_status(app, team, runner):
    assert runner.invoke(args=["policy", "status"]).exit_code != 0
    result = runner.invoke(args=["policy", "publish"])
    assert result.exit_code == 0 and "published version 1" in result.output
    assert runner.invoke(args=["policy", "publish"]).exit_code != 0  # same text: refused
    status = runner.invoke(args=["policy", "status"])
    assert "version 1: 12 not acknowledged" in status.output
