"""The demo seeds two incidents on a fresh, synced database, once."""

from __future__ import annotations

from crisis.demo import seed_demo
from crisis.extensions import db
from crisis.incidents import service
from tests.support.incidents import counts


def test_seed_demo_declares_two_incidents_once(app, synced):
    with app.app_context():
        seed_demo()
        incidents = service.list_incidents(status="all")
        assert sorted(i.is_drill for i in incidents) == [False, True]
        viral = next(i for i in incidents if not i.is_drill)
        assert viral.status == "responding"
        assert viral.step("gather-facts").status == "done"
        assert viral.step("respond-and-fix").applicability == "applies"
        # The demo team starts trained, so its SEV2 carries no "nobody is ready" warning.
        assert not [w for w in service.incident_warnings(viral) if "ready" in w]
        seed_demo()
        db.session.commit()
    assert counts(app)[0] == 2


def test_seed_demo_without_playbooks_declares_nothing(app):
    with app.app_context():
        seed_demo()
    assert counts(app)[0] == 0
