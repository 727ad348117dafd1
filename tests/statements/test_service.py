"""The statement lifecycle through the domain functions: draft, approve, edit, reject, publish."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisis import clock
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.extensions import db
from crisis.incidents.service import get_incident
from crisis.people.service import get_person
from crisis.statements import service
from crisis.statements.models import Statement
from crisis.timeline.service import events_for


def kinds(app, ref: str, prefix: str = "statement.") -> list[str]:
    with app.app_context():
        return [e.kind for e in events_for(get_incident(ref).id, kinds=[prefix])]


def test_draft_from_the_step_template_fills_placeholders_from_the_incident(app, desk, team):
    sid = desk.draft(team.social, step_key="holding-statement")
    statement = desk.get(sid)
    assert statement["body"].startswith("We've seen https://x.com/someone/status/1 and we're sorry")
    # The spokesperson roster's primary and the configured company sign it.
    assert statement["body"].rstrip().endswith("— Spokes, Example Co")
    assert statement["status"] == "draft"
    assert [v["number"] for v in statement["versions"]] == [1]
    assert kinds(app, desk.ref) == ["statement.drafted"]


def test_blank_draft_needs_a_body_and_bad_input_writes_nothing(app, desk, team):
    with pytest.raises(InvalidInput) as error:
        desk.draft(team.social)
    assert error.value.field == "body"
    with pytest.raises(InvalidInput) as error:
        desk.draft(team.social, body="Hello", platform="  ")
    assert error.value.field == "platform"
    with pytest.raises(InvalidInput) as error:
        desk.draft(team.social, body="Hello", step_key="no-such-step")
    assert error.value.field == "step"
    with pytest.raises(InvalidInput) as error:
        desk.draft(team.social, body="x" * 10_001)
    assert error.value.field == "body"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Statement.id))) == 0
    assert kinds(app, desk.ref) == []


def test_submit_asks_the_step_approvers_and_each_approval_lands_on_the_timeline(app, desk, team):
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    statement = desk.get(sid)
    assert statement["status"] == "in_review"
    assert [(a["role"], a["status"]) for a in statement["approvals"]] == [("legal", "pending"), ("marketing", "pending")]
    # SEV2: approvers have 30 minutes.
    assert statement["approvals"][0]["due_at"] == (clock.now() + timedelta(minutes=30)).isoformat()
    desk.approve(team.legal, sid)
    assert desk.get(sid)["status"] == "in_review"
    desk.approve(team.marketing, sid)
    statement = desk.get(sid)
    assert statement["status"] == "approved"
    assert [(a["role"], a["decided_by"], a["version"]) for a in statement["approvals"]] == [
        ("legal", team.legal, 1), ("marketing", team.marketing, 1)
    ]
    assert kinds(app, desk.ref) == ["statement.drafted", "statement.submitted", "statement.approved", "statement.approved"]


def test_any_edit_after_an_approval_resets_the_approvals(app, desk, team):
    sid = desk.approved(team)
    desk.edit(team.social, sid, body="We are aware and looking into it. Update within the hour.")
    statement = desk.get(sid)
    assert statement["status"] == "in_review"
    assert statement["version"] == 2
    assert [(a["status"], a["decided_by"]) for a in statement["approvals"]] == [("pending", None), ("pending", None)]
    assert statement["approved_at"] is None
    # Every wording is kept.
    assert [v["number"] for v in statement["versions"]] == [1, 2]
    assert statement["versions"][0]["body"].startswith("We've seen")
    with app.app_context():
        edited = events_for(get_incident(desk.ref).id, kinds=["statement.edited"])[-1]
        assert edited.data["approvals_reset"] is True
    # Even one approval given is reset by an edit.
    desk.approve(team.legal, sid)
    desk.edit(team.social, sid, body="We are aware and looking into it.")
    assert [a["status"] for a in desk.get(sid)["approvals"]] == ["pending", "pending"]


def test_an_edit_that_changes_nothing_is_refused(desk, team):
    sid = desk.draft(team.social, body="Same words")
    with pytest.raises(InvalidInput):
        desk.edit(team.social, sid, body="Same words")
    assert desk.get(sid)["version"] == 1


def test_only_holders_of_a_pending_approver_role_may_approve(app, desk, team, make_person):
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    # The lead holds 'approve' but neither legal nor marketing; the admin holds every permission but no role.
    for email in (team.lead, team.admin):
        with pytest.raises(Forbidden) as error:
            desk.approve(email, sid)
        assert "legal and marketing" in error.value.message
    # Marketing cannot approve for legal.
    with pytest.raises(Forbidden):
        desk.approve(team.marketing, sid, role="legal")
    # A backup on the legal roster can.
    make_person("legal.backup@example.com", permissions=["approve", "view"], roles=["legal:backup"])
    desk.approve("legal.backup@example.com", sid)
    # Legal has approved: a second legal approval has nothing to decide.
    with pytest.raises(Forbidden):
        desk.approve(team.legal, sid)
    assert [a["status"] for a in desk.get(sid)["approvals"]] == ["approved", "pending"]


def test_reject_needs_a_reason_then_sends_the_statement_back(app, desk, team):
    sid = desk.draft(team.social, step_key="holding-statement")
    desk.submit(team.social, sid)
    with pytest.raises(InvalidInput) as error:
        desk.reject(team.legal, sid, reason="  ")
    assert error.value.field == "reason"
    assert desk.get(sid)["status"] == "in_review"
    desk.reject(team.legal, sid, reason="Do not promise a reply within the hour")
    statement = desk.get(sid)
    assert statement["status"] == "rejected"
    assert statement["rejected_reason"] == "Do not promise a reply within the hour"
    # Nothing left to decide once sent back.
    with pytest.raises(Conflict):
        desk.approve(team.marketing, sid)
    # An edit returns it to draft; a new submit asks both approvers again.
    desk.edit(team.social, sid, body="We're aware and looking into it.")
    assert desk.get(sid)["status"] == "draft"
    desk.submit(team.social, sid)
    assert [a["status"] for a in desk.get(sid)["approvals"]] == ["pending", "pending"]
    assert kinds(app, desk.ref)[-3:] == ["statement.rejected", "statement.edited", "statement.submitted"]


def test_publish_without_approval_is_refused_and_changes_nothing(app, desk, team, spokesperson):
    sid = desk.draft(team.social, step_key="holding-statement")
    with pytest.raises(Forbidden) as error:
        desk.publish(spokesperson, sid)
    assert "not approved" in error.value.message
    desk.submit(team.social, sid)
    desk.approve(team.legal, sid)
    with pytest.raises(Forbidden) as error:
        desk.publish(spokesperson, sid)
    assert "waiting for marketing" in error.value.message
    statement = desk.get(sid)
    assert statement["status"] == "in_review"
    assert statement["published_at"] is None
    assert "statement.published" not in kinds(app, desk.ref)
    with app.app_context():
        assert get_incident(desk.ref).step("holding-statement").status == "active"


def test_publish_by_anyone_but_a_trained_authorised_spokesperson_is_refused(app, desk, team, make_person):
    sid = desk.approved(team)
    # Holds 'publish' and the spokesperson role but no authorisation yet.
    with pytest.raises(Forbidden) as error:
        desk.publish(team.spokes, sid)
    assert "not an authorised, trained spokesperson for x" in error.value.message
    make_person("insta@example.com", permissions=["publish", "view"])
    make_person("noperm@example.com", permissions=["view"])
    with app.app_context():
        admin = get_person(team.admin)
        # Authorised, but not trained.
        untrained = service.authorise_spokesperson(person=get_person(team.spokes), platform="x", trained_at=None, granted_by=admin)
        # Trained, authorised, but for another platform.
        service.authorise_spokesperson(
            person=get_person("insta@example.com"), platform="instagram", trained_at=clock.now(), granted_by=admin
        )
        # Authorised everywhere and trained, but without the publish permission.
        service.authorise_spokesperson(person=get_person("noperm@example.com"), platform="*", trained_at=clock.now(), granted_by=admin)
        db.session.commit()
        untrained_id = untrained.id
    for email in (team.spokes, "insta@example.com", "noperm@example.com", team.admin, team.legal):
        with pytest.raises(Forbidden):
            desk.publish(email, sid)
    assert desk.get(sid)["status"] == "approved"
    # Revoked authorisations do not count either.
    with app.app_context():
        service.revoke_spokesperson(authorisation_id=untrained_id)
        service.authorise_spokesperson(
            person=get_person(team.spokes), platform="x", trained_at=clock.now() - timedelta(days=1), granted_by=get_person(team.admin)
        )
        db.session.commit()
    desk.publish(team.spokes, sid)
    assert desk.get(sid)["status"] == "published"


def test_publishing_records_who_and_which_words_and_completes_the_publishing_step(app, desk, team, spokesperson):
    sid = desk.approved(team)
    desk.publish(spokesperson, sid, url="https://x.com/exampleco/status/99")
    statement = desk.get(sid)
    assert statement["status"] == "published"
    assert statement["published_by"] == spokesperson
    assert statement["published_url"] == "https://x.com/exampleco/status/99"
    with app.app_context():
        incident = get_incident(desk.ref)
        step = incident.step("holding-statement")
        assert step.status == "done"
        assert step.completed_by.email == spokesperson
        events = events_for(incident.id, kinds=["statement.published", "step.completed"])
        assert [e.kind for e in events] == ["statement.published", "step.completed"]
        assert events[0].data["body"] == statement["body"]
        assert events[0].data["approved_by"] == sorted([team.legal, team.marketing])
        assert events[1].data["via"] == "statement"
    # Published is final.
    with pytest.raises(Conflict):
        desk.publish(spokesperson, sid)
    with pytest.raises(Conflict):
        desk.edit(team.social, sid, body="Changed after the fact")
    assert kinds(app, desk.ref).count("statement.published") == 1


def test_publish_needs_a_web_address(desk, team, spokesperson):
    sid = desk.approved(team)
    for url in ("", "javascript:alert(1)", "ftp://x.com/1", "x.com/status/1"):
        with pytest.raises(InvalidInput) as error:
            desk.publish(spokesperson, sid, url=url)
        assert error.value.field == "url"
    assert desk.get(sid)["status"] == "approved"


@pytest.mark.parametrize(
    ("severity", "approvers"),
    [("SEV1", ["legal", "marketing"]), ("SEV2", ["legal", "marketing"]), ("SEV3", ["marketing"]), ("SEV4", ["marketing"])],
)
def test_a_statement_for_no_step_needs_the_default_approvers_of_its_severity(app, team, incident_factory, desk_for, severity, approvers):
    desk = desk_for(incident_factory(severity=severity))
    sid = desk.draft(team.social, body="We are aware and looking into it.")
    desk.submit(team.social, sid)
    assert [a["role"] for a in desk.get(sid)["approvals"]] == approvers


def test_draft_from_the_holding_statement_library(app, desk, team):
    with app.app_context():
        entry = service.add_holding_statement(
            title="Aware and looking", body="We know about {incident_title} and are on it. — {company}",
            platform="", approved_by=get_person(team.legal),
        )
        db.session.commit()
        entry_id = entry.id
    sid = desk.draft(team.social, holding_statement_id=entry_id)
    statement = desk.get(sid)
    assert statement["body"] == "We know about Customer video about a broken kettle is going viral and are on it. — Example Co"
    assert statement["holding_statement"] == entry_id
    with app.app_context():
        service.retire_holding_statement(holding_statement_id=entry_id)
        db.session.commit()
    with pytest.raises(InvalidInput):
        desk.draft(team.social, holding_statement_id=entry_id)


def test_library_wording_needs_an_approver(app, team):
    with app.app_context(), pytest.raises(Forbidden):
        service.add_holding_statement(title="T", body="B", platform="", approved_by=get_person(team.social))


def test_a_statement_for_no_step_completes_the_active_publishing_step(app, desk, team, spokesperson):
    sid = desk.draft(team.social, body="We're aware and looking into it.")
    desk.submit(team.social, sid)
    desk.approve(team.legal, sid)
    desk.approve(team.marketing, sid)
    desk.publish(spokesperson, sid)
    with app.app_context():
        step = get_incident(desk.ref).step("holding-statement")
        assert step.status == "done"
        assert "published" in step.note


def test_publishing_when_the_step_is_already_skipped_still_records_the_statement(app, desk, team, spokesperson, api_client):
    sid = desk.approved(team)
    skip = {"reason": "Answered by phone"}
    assert api_client(team.lead).post(f"/api/v1/incidents/{desk.ref}/steps/holding-statement/skip", json=skip).status_code == 200
    desk.publish(spokesperson, sid)
    assert desk.get(sid)["status"] == "published"
    with app.app_context():
        assert get_incident(desk.ref).step("holding-statement").status == "skipped"
        assert events_for(get_incident(desk.ref).id, kinds=["step.completed"]) == []


def test_template_values_cover_every_placeholder_in_the_organisation_time_zone(app, ref):
    from crisis.playbooks.definition import TEMPLATE_FIELDS

    app.config["TIMEZONE"] = "Europe/Berlin"
    with app.app_context():
        values = service.template_values(incident=get_incident(ref), platform="x")
    assert set(values) == set(TEMPLATE_FIELDS)
    assert values["declared_at"] == "21 Nov 2026 10:00 CET"
    assert values["link"] == "https://x.com/someone/status/1"
    assert values["summary"] == "The kettle lid breaks"


def test_whoever_wrote_the_wording_under_review_cannot_approve_it(app, desk, team, make_person):
    # A second legal approver: alone on the roster, legal may not write wording under review at all
    # (tests/statements/test_sole_approver.py).
    make_person("legal.backup@example.com", permissions=("respond", "approve", "view"), roles=("legal:backup",))
    sid = desk.draft(team.legal, step_key="holding-statement")
    desk.submit(team.legal, sid)
    desk.approve(team.marketing, sid)
    # Legal, its author, rewrites the statement, which resets the approvals; legal may not then sign its own words.
    desk.edit(team.legal, sid, body="We are aware of the video and are contacting the customer.")
    with pytest.raises(Forbidden, match="another approver must approve it"):
        desk.approve(team.legal, sid)
    assert [a["status"] for a in desk.get(sid)["approvals"]] == ["pending", "pending"]
    # Once someone else (the lead) words it, legal's sign-off counts again.
    desk.edit(team.lead, sid, body="We are aware of the video and are contacting the customer directly.")
    desk.approve(team.legal, sid)
    assert [a["status"] for a in desk.get(sid)["approvals"]] == ["approved", "pending"]
