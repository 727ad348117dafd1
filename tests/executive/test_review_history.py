"""Probe finding 4: every save of a review is a version; after close an amendment needs a reason;
only the review's author, the triage owner, a lead or an admin may change it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crisis.extensions import db
from crisis.reviews.models import ReviewVersion


def _form(**overrides):
    data = {
        "what_happened": "A customer's video spread to the press.",
        "went_well": "Holding statement in 9 minutes.",
        "to_change": "", "training_needs": "",
        "action_description": ["Weekend legal rota"], "action_owner": ["legal@example.com"],
        "action_due": ["2026-12-05"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def resolved(team, desk, incident_factory, clock) -> str:
    ref = incident_factory(severity="SEV3")
    clock.advance(hours=1)
    desk.resolve(ref)
    return ref


@pytest.fixture
def versions(app):
    def versions() -> list[ReviewVersion]:
        with app.app_context():
            rows = db.session.scalars(select(ReviewVersion).order_by(ReviewVersion.number)).all()
            for row in rows:
                db.session.expunge(row)
            return rows

    return versions


def test_every_save_is_a_version_with_who_when_and_what_changed(app, client, team, login, resolved, versions, clock):
    login(team.social)
    assert client.post(f"/incidents/{resolved}/review", data=_form()).status_code == 302
    clock.advance(minutes=30)
    assert client.post(f"/incidents/{resolved}/review", data=_form(went_well="Replies within the hour.")).status_code == 302
    first, second = versions()
    assert (first.number, second.number) == (1, 2)
    assert first.went_well == "Holding statement in 9 minutes."  # the old text is kept
    assert second.went_well == "Replies within the hour."
    assert second.changed == ["went_well"]
    assert second.edited_at > first.edited_at
    with app.app_context():
        from crisis.people.service import get_person

        assert second.edited_by_id == get_person(team.social).id
    assert first.actions == [{"description": "Weekend legal rota", "owner": "legal@example.com", "due_on": "2026-12-05"}]
    page = client.get(f"/incidents/{resolved}/review").get_data(as_text=True)
    assert "Version 2" in page and "changed what went well" in page


def test_after_close_a_review_is_amended_only_with_a_reason(app, client, team, login, desk, resolved, versions):
    login(team.lead)
    client.post(f"/incidents/{resolved}/review", data=_form())
    desk.change(resolved, team.lead, status="closed")
    refused = client.post(f"/incidents/{resolved}/review", data=_form(what_happened="Quietly rewritten."))
    assert refused.status_code == 422
    assert "say why" in refused.get_data(as_text=True)
    assert [v.what_happened for v in versions()] == ["A customer's video spread to the press."]
    amended = client.post(f"/incidents/{resolved}/review",
                          data=_form(what_happened="It spread to two papers.", reason="The second paper ran it late."))
    assert amended.status_code == 302
    last = versions()[-1]
    assert (last.number, last.reason, last.what_happened) == (2, "The second paper ran it late.", "It spread to two papers.")


def test_a_responder_the_rule_does_not_name_cannot_rewrite_the_review(app, client, team, login, resolved, versions):
    from crisis.errors import Forbidden
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.reviews.service import write_review

    login(team.social)
    client.post(f"/incidents/{resolved}/review", data=_form())
    with app.app_context():
        with pytest.raises(Forbidden, match="author"):
            write_review(incident=get_incident(resolved), actor=get_person(team.care), what_happened="Mine now.")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ReviewVersion)) == 1
    for who in (team.social, team.lead, team.admin):  # author, lead, admin
        with app.app_context():
            write_review(incident=get_incident(resolved), actor=get_person(who), what_happened=f"Edited by {who}.")
            db.session.commit()
    assert len(versions()) == 4
