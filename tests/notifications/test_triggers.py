"""Who is told what when work lands, delivered through the real SMTP server and HTTP receiver."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crisis import clock as crisis_clock
from crisis.errors import InvalidInput
from crisis.escalation.scheduler import sweep_all
from crisis.extensions import db
from crisis.incidents.models import IncidentStep
from crisis.incidents.service import (
    assign_step,
    change_incident,
    complete_step,
    declare_incident,
    get_incident,
)
from crisis.notifications.delivery import deliver_due
from crisis.notifications.models import Notification, Webhook
from crisis.notifications.reminders import send_reminders
from crisis.people.service import get_person
from crisis.statements import service as statements
from crisis.timeline.service import events_for


@pytest.fixture
def wired(app, smtp_server, receiver):
    """The real SMTP server and webhook receiver, and a helper that delivers and reads what arrived."""
    with app.app_context():
        db.session.add(Webhook(name="desk", url=receiver.url))
        db.session.commit()

    class Wire:
        mail = smtp_server
        hooks = receiver

        def deliver(self) -> None:
            with app.app_context():
                deliver_due()

        def emails(self, marker: str = "") -> list[str]:
            """Recipients of the accepted emails whose subject contains `marker`, sorted."""
            self.deliver()
            return sorted(to for _, tos, message in self.mail.messages for to in tos if marker in message["Subject"])

        def inbox(self, key_prefix: str) -> list[str]:
            with app.app_context():
                rows = db.session.scalars(
                    select(Notification).where(Notification.channel == "in_app",
                                               Notification.dedup_key.startswith(key_prefix))
                )
                return sorted(row.recipient.email for row in rows)

    return Wire()


def act(app, fn, *args, **kwargs):
    with app.app_context():
        result = fn(*args, **kwargs)
        db.session.commit()
        return result


def test_declaring_tells_the_triage_owner_the_first_owners_and_the_sponsor_once_each(
    app, team, incident_factory, wired, clock
):
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        incident_id = get_incident(ref).id
    key = f"declared:{incident_id}"
    # The lead is triage owner and owns gather-facts: one message; the spokesperson owns the
    # holding statement; SEV2 also tells the executive sponsor.
    assert wired.inbox(key) == sorted([team.lead, team.spokes, team.exec])
    assert wired.emails(ref) == sorted([team.lead, team.spokes, team.exec])
    lead_mail = next(m for _, tos, m in wired.mail.messages if tos == [team.lead])
    body = lead_mail.get_payload(decode=True).decode()
    assert "triage owner" in body and "Gather the facts" in body
    assert f"/incidents/{ref}" in body and "UTC" in body
    # The team channel hears of it once.
    received = wired.hooks.keys()
    assert [k for k in received if k.startswith(key)] == [f"{key}:webhook:1"]
    assert any(ref in r["json"]["text"] for r in wired.hooks.requests)
    assert wired.inbox(key) == sorted([team.lead, team.spokes, team.exec])


def test_below_sev2_the_sponsor_is_not_told_and_email_off_means_in_app_only(app, team, incident_factory, wired):
    with app.app_context():
        get_person(team.spokes).notify_email = False
        db.session.commit()
    ref = incident_factory(severity="SEV3")
    with app.app_context():
        key = f"declared:{get_incident(ref).id}"
    assert team.exec not in wired.inbox(key)
    assert wired.inbox(key) == sorted([team.lead, team.spokes])
    assert wired.emails(ref) == [team.lead]


def test_a_due_time_is_said_in_the_recipients_time_zone(app, team, incident_factory, wired):
    with app.app_context():
        get_person(team.spokes).timezone = "Europe/Paris"
        db.session.commit()
    incident_factory(severity="SEV2")
    wired.deliver()
    body = next(m for _, tos, m in wired.mail.messages if tos == [team.spokes]).get_payload(decode=True).decode()
    assert "CET" in body and "Publish a holding statement" in body


def test_a_step_that_starts_later_tells_its_owner_but_not_the_person_who_started_it(
    app, team, incident_factory, wired
):
    ref = incident_factory(severity="SEV2")
    act(app, lambda: complete_step(incident=get_incident(ref), step_key="gather-facts",
                                   actor=get_person(team.lead), note="done"))
    # assess-and-classify (triage-lead: the lead) started, but the lead completed gather-facts.
    with app.app_context():
        step = get_incident(ref).step("assess-and-classify")
        assert step.status == "active"
        key = f"started:{step.id}"
    assert wired.inbox(key) == []
    # Handing it over and completing as someone else: the next steps' owners hear of theirs.
    act(app, lambda: assign_step(incident=get_incident(ref), step_key="assess-and-classify",
                                 actor=get_person(team.lead), owner_email=team.triage_backup))
    act(app, lambda: complete_step(incident=get_incident(ref), step_key="assess-and-classify",
                                   actor=get_person(team.triage_backup), note="classified"))
    with app.app_context():
        started = [s for s in get_incident(ref).steps if s.key == "notify-stakeholders"][0]
        assert started.status == "active"
        rows = db.session.scalars(select(Notification).where(Notification.dedup_key.startswith("started:"),
                                                             Notification.channel == "in_app")).all()
        told = [row.recipient.email for row in rows]
        # notify-stakeholders and brief-exec-sponsor are both the lead's: one message for both;
        # the person whose completion started them is not told.
        assert team.lead in told and team.triage_backup not in told
        assert len(told) == len(set(told))


def test_hand_over_tells_the_new_and_previous_owner_and_refuses_people_who_cannot_act(
    app, team, incident_factory, wired, clock
):
    ref = incident_factory(severity="SEV2")
    act(app, lambda: assign_step(incident=get_incident(ref), step_key="holding-statement",
                                 actor=get_person(team.lead), owner_email=team.social))
    assert wired.inbox("handover:") == sorted([team.social, team.spokes])
    assert wired.emails("handed") == [team.social]
    assert wired.emails("no longer yours") == [team.spokes]
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            assign_step(incident=get_incident(ref), step_key="holding-statement", actor=get_person(team.lead),
                        owner_email=team.viewer)
        assert refused.value.field == "owner" and "respond" in refused.value.message
        db.session.rollback()
        assert get_incident(ref).step("holding-statement").owner.email == team.social


def test_statement_flow_tells_approvers_spokespeople_author_and_triage_owner(
    app, team, incident_factory, wired, make_person, clock
):
    trained = crisis_clock.now()
    # One person on both approver rosters gets one message, not two.
    both = make_person("both@example.com", permissions=["respond", "approve", "view"],
                       roles=["legal:backup", "marketing:backup"])
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        statements.authorise_spokesperson(person=get_person(team.spokes), platform="x",
                                          trained_at=trained, granted_by=None)
        db.session.commit()
        incident = get_incident(ref)
        statement = statements.draft_statement(incident=incident, actor=get_person(team.legal), platform="x",
                                               body="We are looking into it.", step_key="holding-statement")
        db.session.commit()
        sid = statement.id

    def statement_():
        return statements.get_statement(incident=get_incident(ref), statement_id=sid)

    act(app, lambda: statements.submit_statement(statement=statement_(), actor=get_person(team.legal)))
    # Legal wrote it: everyone else on the legal and marketing rosters is asked, legal is not.
    assert wired.inbox(f"review:{sid}:") == sorted([team.marketing, both])
    # Sent back: the author hears why.
    act(app, lambda: statements.reject_statement(statement=statement_(), actor=get_person(team.marketing),
                                                 reason="Too vague"))
    assert wired.inbox(f"sent-back:{sid}:") == [team.legal]
    # Edited by the lead and submitted again: now legal is asked and the lead (author) is not.
    act(app, lambda: statements.edit_statement(statement=statement_(), actor=get_person(team.lead),
                                               body="We are sorry and looking into it now."))
    act(app, lambda: statements.submit_statement(statement=statement_(), actor=get_person(team.lead)))
    assert wired.inbox(f"review:{sid}:v2") == sorted([team.legal, team.marketing, both])
    act(app, lambda: statements.approve_statement(statement=statement_(), actor=get_person(team.legal)))
    assert wired.inbox(f"approved:{sid}:") == []
    act(app, lambda: statements.approve_statement(statement=statement_(), actor=get_person(team.marketing)))
    # Approved: the authorised, trained spokesperson, who also owns the publishing step: one message.
    assert wired.inbox(f"approved:{sid}:") == [team.spokes]
    act(app, lambda: statements.publish_statement(statement=statement_(), actor=get_person(team.spokes),
                                                  url="https://x.com/example/status/1"))
    assert wired.inbox(f"published:{sid}") == [team.lead]
    assert wired.emails("ready to publish") == [team.spokes]
    assert wired.emails("was published") == [team.lead]


def test_a_reminder_goes_once_before_a_step_falls_due_and_none_for_short_steps(
    app, team, incident_factory, wired, clock
):
    ref = incident_factory(severity="SEV2")  # holding-statement due in 30 min, gather-facts in 15 min
    with app.app_context():
        steps = {s.key: s for s in get_incident(ref).steps}
        assert steps["holding-statement"].remind_at == steps["holding-statement"].due_at - timedelta(minutes=5)
        hold_id = steps["holding-statement"].id
    clock.advance(minutes=10)  # gather-facts is due in 5 min: its owner is reminded
    act(app, sweep_all)
    clock.advance(minutes=14)
    act(app, sweep_all)
    assert wired.inbox(f"reminder:{hold_id}") == []
    clock.advance(minutes=1)
    act(app, sweep_all)
    act(app, sweep_all)
    assert wired.inbox(f"reminder:{hold_id}") == [team.spokes]
    assert wired.emails("is due at") == sorted([team.lead, team.spokes])
    with app.app_context():
        assert db.session.get(IncidentStep, hold_id).remind_at is None


def test_a_finished_step_gets_no_reminder(app, team, incident_factory, wired, clock):
    ref = incident_factory(severity="SEV2")
    act(app, lambda: complete_step(incident=get_incident(ref), step_key="gather-facts",
                                   actor=get_person(team.lead), note="done"))
    clock.advance(minutes=11)
    act(app, sweep_all)
    assert [e for e in wired.inbox("reminder:")] == []


def test_level_two_reaches_the_backup_when_the_owner_holds_every_named_role(app, team, incident_factory, wired, clock):
    ref = incident_factory(severity="SEV2")
    clock.advance(minutes=15)
    act(app, sweep_all)  # level 1: the owner (the lead)
    clock.advance(minutes=10)
    act(app, sweep_all)  # level 2: triage owner + role lead, both the lead: the triage backup instead
    with app.app_context():
        events = [e.data for e in events_for(get_incident(ref).id, kinds=["step.escalated"])
                  if e.data["step"] == "gather-facts"]
    assert [e["notified"] for e in events] == [[team.lead], [team.triage_backup]]
    assert team.triage_backup in wired.emails("Gather")


def test_with_no_backups_a_level_records_nobody_new_and_a_sponsor_hears_in_app(app, make_person, synced, clock, wired):
    make_person("solo@example.com", permissions=["declare", "respond", "view"],
                roles=["triage-lead", "comms-lead", "spokesperson", "legal", "marketing", "hr", "customer-care"])
    with app.app_context():
        ref = declare_incident(playbook_key="viral-complaint", title="Kettle", severity="SEV3",
                               declared_by=get_person("solo@example.com")).ref
        db.session.commit()
    clock.advance(minutes=30)
    act(app, sweep_all)  # level 1: solo
    clock.advance(minutes=10)
    act(app, sweep_all)  # level 2: nobody new and no sponsor on the roster
    with app.app_context():
        events = [e for e in events_for(get_incident(ref).id, kinds=["step.escalated"])
                  if e.data["step"] == "gather-facts"]
    assert events[-1].data.get("nobody_new") is True
    assert "nobody new" in events[-1].summary
    make_person("boss@example.com", permissions=["view"], roles=["exec-sponsor"])
    clock.advance(minutes=20)
    act(app, sweep_all)  # level 3: the sponsor, in the app too although the level names email only
    assert "boss@example.com" in wired.inbox("escalation:")


def test_approvals_stop_escalating_once_resolved_and_never_reach_the_author(
    app, team, incident_factory, wired, clock, make_person
):
    make_person("legal.backup@example.com", permissions=["respond", "approve", "view"], roles=["legal:backup"])
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        incident = get_incident(ref)
        statement = statements.draft_statement(incident=incident, actor=get_person("legal.backup@example.com"),
                                               platform="x", body="Sorry.", step_key="holding-statement")
        statements.submit_statement(statement=statement, actor=get_person("legal.backup@example.com"))
        db.session.commit()
    clock.advance(minutes=40)
    act(app, sweep_all)
    act(app, sweep_all)
    with app.app_context():
        notified = [e.data["notified"] for e in events_for(get_incident(ref).id, kinds=["statement.escalated"])]
    assert notified and all("legal.backup@example.com" not in n for n in notified)
    with app.app_context():
        incident = get_incident(ref)
        change_incident(incident=incident, actor=get_person(team.lead), status="resolved",
                        force_reason="Handled elsewhere")
        db.session.commit()
        before = len(events_for(incident.id, kinds=["statement.escalated"]))
    clock.advance(hours=3)
    act(app, sweep_all)
    with app.app_context():
        assert len(events_for(get_incident(ref).id, kinds=["statement.escalated"])) == before


def test_without_a_mail_server_emails_are_kept_unsent_for_admins(app, team, incident_factory, client, login):
    app.config["SMTP_HOST"] = ""
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.channel == "email")).all()
        assert rows and {row.status for row in rows} == {"held"}
        assert deliver_due().attempted == 0
    login(team.admin)
    page = client.get("/admin/mailbox").get_data(as_text=True)
    assert "not sent" in page and ref in page
    assert "Mailbox (not sent)" in client.get("/admin/people").get_data(as_text=True)  # the admin menu leads there
    app.config["SMTP_HOST"] = "127.0.0.1"
    assert "Mailbox (not sent)" not in client.get("/admin/people").get_data(as_text=True)
    login(team.lead)
    assert client.get("/admin/mailbox").status_code in (302, 403)


def test_admins_see_a_banner_on_every_page_while_a_channel_fails(app, team, incident_factory, client, login):
    incident_factory(severity="SEV2")  # SMTP_HOST 127.0.0.1 port 1: nothing listens
    with app.app_context():
        deliver_due()
    login(team.admin)
    for path in ("/dashboard", "/incidents", "/my-steps"):
        page = client.get(path).get_data(as_text=True)
        assert "Email is failing" in page and "/admin/deliveries" in page
    login(team.lead)
    assert "is failing" not in client.get("/dashboard").get_data(as_text=True)


def test_the_api_refuses_a_hand_over_to_someone_who_cannot_act_and_changes_nothing(
    app, team, incident_factory, api_client
):
    ref = incident_factory(severity="SEV2")
    api = api_client(team.lead)
    response = api.post(f"/api/v1/incidents/{ref}/steps/holding-statement/assign", json={"owner": team.viewer})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "owner" and "respond" in error["message"]
    step = next(s for s in api.get(f"/api/v1/incidents/{ref}").get_json()["steps"] if s["key"] == "holding-statement")
    assert step["owner"] == team.spokes
    with app.app_context():
        assert db.session.scalars(select(Notification).where(Notification.dedup_key.startswith("handover:"))).all() == []


def test_the_hand_over_list_offers_responders_with_the_steps_role_first(app, team, incident_factory, client, login):
    ref = incident_factory(severity="SEV2")
    login(team.lead)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    hand_over = page.split('aria-label="New owner of Gather the facts"')[1].split("</select>")[0]
    # The triage-lead backup holds the step's role: first; viewers and executives (no respond) are absent.
    assert hand_over.index("Triage Backup") < hand_over.index("Legal")
    assert "Triage Backup (triage-lead backup)" in hand_over
    assert "Viewer" not in hand_over and "Exec" not in hand_over


def test_concurrent_reminder_sweeps_send_each_reminder_once(app, team, incident_factory, clock):
    refs = [incident_factory(severity="SEV2", title=f"Kettle {n}") for n in range(3)]
    clock.advance(minutes=26)  # past every reminder of the first steps, before they fall due (30 min)
    errors: list[BaseException] = []

    def sweeper() -> None:
        try:
            with app.app_context():
                send_reminders()
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        keys = db.session.scalars(select(Notification.dedup_key).where(Notification.dedup_key.startswith("reminder:"),
                                                                          Notification.channel == "in_app")).all()
        held = [get_incident(ref).step("holding-statement").id for ref in refs]
    assert sorted(keys) == sorted(f"reminder:{step_id}:in_app:{_id(app, team.spokes)}" for step_id in held)


def _id(app, email: str) -> int:
    with app.app_context():
        return get_person(email).id


def _email_to(wired, address: str, marker: str) -> str:
    wired.deliver()
    return next(m for _, tos, m in wired.mail.messages if tos == [address] and marker in m["Subject"]).get_payload(
        decode=True).decode()


def test_escalation_emails_state_the_due_time_in_each_recipients_zone(app, team, incident_factory, wired, clock):
    with app.app_context():
        get_person(team.lead).timezone = "America/New_York"
        db.session.commit()
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        due_at = db.session.scalar(select(IncidentStep.due_at).where(IncidentStep.key == "gather-facts"))
    clock.advance(minutes=15)
    act(app, sweep_all)  # level 1 of gather-facts: its owner, the lead, in New York
    body = _email_to(wired, team.lead, "Overdue (level 1): Gather the facts")
    local = due_at.astimezone(ZoneInfo("America/New_York"))
    assert f"it was due {local:%H:%M} EST, {local:%a} {local.day} {local:%b}" in body
    assert "UTC" not in body and ref in body
    # Level 2 also goes to the team's webhook, which reads it in the desk's zone (UTC here), once.
    clock.advance(minutes=10)
    act(app, sweep_all)
    wired.deliver()
    texts = [r["json"]["text"] for r in wired.hooks.requests if r["headers"]["Idempotency-Key"].startswith(
        "escalation:") and "Gather the facts" in r["json"]["text"]]
    assert len(texts) == 1 and f"{due_at:%H:%M} UTC" in texts[0]


def test_approval_escalation_emails_state_the_due_time_in_each_recipients_zone(
    app, team, incident_factory, wired, clock
):
    with app.app_context():
        get_person(team.legal).timezone = "Asia/Tokyo"
        db.session.commit()
    ref = incident_factory(severity="SEV2")
    with app.app_context():
        incident = get_incident(ref)
        statement = statements.draft_statement(incident=incident, actor=get_person(team.lead), platform="x",
                                               body="Sorry.", step_key="holding-statement")
        statements.submit_statement(statement=statement, actor=get_person(team.lead))
        db.session.commit()
    clock.advance(minutes=40)
    act(app, sweep_all)
    body = _email_to(wired, team.legal, "approval of statement")
    assert "JST" in body and "UTC" not in body
