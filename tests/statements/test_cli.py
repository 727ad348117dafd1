"""`flask spokespeople ...`: authorise, record training, revoke, list; audited as the CLI."""

from __future__ import annotations

from sqlalchemy import select

from crisis.admin.models import AuditEvent
from crisis.extensions import db
from crisis.people.service import get_person
from crisis.statements.service import is_spokesperson


def test_spokespeople_cli_round_trip(app, runner, make_person):
    make_person("voice@example.com", permissions=["publish", "view"])
    assert "nobody may publish" in runner.invoke(args=["spokespeople", "list"]).output
    result = runner.invoke(args=["spokespeople", "authorise", "voice@example.com", "--platform", "x"])
    assert result.exit_code == 0, result.output
    assert "cannot publish until trained" in result.output
    authorisation_id = result.output.split()[1].rstrip(":")
    with app.app_context():
        assert not is_spokesperson(get_person("voice@example.com"), "x")
    assert runner.invoke(args=["spokespeople", "trained", authorisation_id, "2026-11-01"]).exit_code == 0
    with app.app_context():
        assert is_spokesperson(get_person("voice@example.com"), "x")
    assert f"{authorisation_id}\tvoice@example.com\tx\t2026-11-01" in runner.invoke(args=["spokespeople", "list"]).output
    assert runner.invoke(args=["spokespeople", "revoke", authorisation_id]).exit_code == 0
    with app.app_context():
        assert not is_spokesperson(get_person("voice@example.com"), "x")
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.actor_name, e.action) for e in events] == [
            ("cli", "spokesperson.authorised"), ("cli", "spokesperson.trained"), ("cli", "spokesperson.revoked")
        ]


def test_spokespeople_cli_refuses_bad_input_and_changes_nothing(app, runner, make_person):
    make_person("voice@example.com", permissions=["publish", "view"])
    for args, message in [
        (["authorise", "nobody@example.com", "--platform", "x"], "Nobody here has that email address"),
        (["authorise", "voice@example.com", "--platform", "  "], "Name the platform"),
        (["authorise", "voice@example.com", "--platform", "x", "--trained", "2030-01-01"], "cannot be in the future"),
        (["revoke", "99"], "There is no such spokesperson authorisation"),
        (["trained", "99", "2026-01-01"], "There is no such spokesperson authorisation"),
    ]:
        result = runner.invoke(args=["spokespeople", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    with app.app_context():
        assert db.session.scalars(select(AuditEvent)).all() == []
