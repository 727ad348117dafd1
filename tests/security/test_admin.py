"""Admin pages: people, rosters, spokespeople, tokens, library; every action on the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crisis.admin.models import AuditEvent, AuditRewrite
from crisis.extensions import db
from crisis.people.models import ApiToken, Person
from crisis.people.service import find_person
from crisis.statements.models import HoldingStatement, SpokespersonAuthorisation
from tests.support.audit import audit_actions


@pytest.fixture
def admin(make_person, login) -> str:
    email = make_person("root@example.com", permissions=["admin"])
    login(email)
    return email


def test_admin_pages_render_with_empty_states(client, admin):
    for path, text in [
        ("/admin/", b"No admin action recorded yet"),
        ("/admin/people", b"Add a person"),
        ("/admin/rosters", b"nobody"),
        ("/admin/spokespeople", b"Nobody may publish yet"),
        ("/admin/tokens", b"No API tokens"),
        ("/admin/holding-statements", b"The library is empty"),
        ("/admin/audit", b"No admin action recorded yet"),
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        assert text in page.data, path


def test_create_a_person_with_permissions_and_roles(app, client, admin):
    response = client.post("/admin/people", data={
        "email": "New.Person@Example.com", "name": "New Person", "password": "a-long-enough-secret",
        "permissions": ["respond", "approve"], "roles": "legal, triage-lead:backup",
    })
    assert response.status_code == 302
    with app.app_context():
        person = find_person("new.person@example.com")
        assert person.permission_names == {"respond", "approve"}
        assert sorted((m.role, m.is_backup) for m in person.roles) == [("legal", False), ("triage-lead", True)]
    assert audit_actions(app) == [(admin, "person.created", "new.person@example.com")]
    roster = client.get("/admin/rosters").data
    assert b"New Person" in roster


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "short"}, b"password must be at least 10 characters"),
        ({"password": "password123"}, b"commonly used passwords"),
        ({"roles": "astronaut"}, b"no response role"),
        ({"email": "not-an-email"}, b"Email"),
    ],
)
def test_bad_person_input_is_refused_with_a_message_and_creates_nothing(app, client, admin, data, message):
    form = {"email": "new@example.com", "name": "New", "password": "a-long-enough-secret", "permissions": ["view"], **data}
    response = client.post("/admin/people", data=form, headers={"Referer": "/admin/people"}, follow_redirects=True)
    assert message in response.data
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Person.id))) == 1
    assert audit_actions(app) == []


def test_disabling_a_person_ends_their_sessions_and_revokes_tokens(app, make_person, api_client, admin):
    victim = make_person("leaving@example.com", permissions=["view", "respond"])
    token_client = api_client(victim)
    other = app.test_client()
    assert other.post("/login", data={"email": victim, "password": "correct-horse-battery"}).status_code == 302
    assert other.get("/dashboard").status_code == 200
    with app.app_context():
        person_id = find_person(victim).id
    admin_client = app.test_client()
    admin_client.post("/login", data={"email": admin, "password": "correct-horse-battery"})
    response = admin_client.post(f"/admin/people/{person_id}/active", follow_redirects=True)
    assert b"disabled: their sessions ended" in response.data
    # Their open session is over at once, and their token no longer works.
    assert other.get("/dashboard").status_code == 302
    assert token_client.get("/api/v1/me").status_code == 401
    assert other.post("/login", data={"email": victim, "password": "correct-horse-battery"}).status_code == 401
    assert audit_actions(app)[-1] == (admin, "person.disabled", victim)
    # Enabling again lets them sign in again.
    admin_client.post(f"/admin/people/{person_id}/active")
    assert other.post("/login", data={"email": victim, "password": "correct-horse-battery"}).status_code == 302


def test_an_admin_cannot_lock_themselves_out(app, client, admin):
    with app.app_context():
        own_id = find_person(admin).id
    response = client.post(f"/admin/people/{own_id}/active", headers={"Referer": f"/admin/people/{own_id}"}, follow_redirects=True)
    assert b"cannot disable your own account" in response.data
    response = client.post(f"/admin/people/{own_id}", data={"name": "Root", "permissions": ["view"]},
                           headers={"Referer": f"/admin/people/{own_id}"}, follow_redirects=True)
    assert b"cannot take the admin permission away from yourself" in response.data
    with app.app_context():
        assert find_person(admin).can("admin")


def test_update_permissions_and_roles_is_audited_with_before_and_after(app, client, make_person, admin):
    email = make_person("pat@example.com", permissions=["view"], roles=["hr"])
    with app.app_context():
        pid = find_person(email).id
    client.post(f"/admin/people/{pid}", data={"name": "Pat", "permissions": ["view", "publish"], "roles": "spokesperson, hr:backup"})
    with app.app_context():
        person = find_person(email)
        assert person.permission_names == {"view", "publish"}
        assert sorted((m.role, m.is_backup) for m in person.roles) == [("hr", True), ("spokesperson", False)]
        event = db.session.scalars(select(AuditEvent)).one()
        assert event.data["before"]["roles"] == ["hr"]
        assert event.data["after"]["permissions"] == ["publish", "view"]


def test_reset_password_applies_the_rules_and_ends_sessions(app, client, make_person, admin):
    email = make_person("pat@example.com")
    with app.app_context():
        pid = find_person(email).id
    response = client.post(f"/admin/people/{pid}/password", data={"password": "tooshort"}, headers={"Referer": f"/admin/people/{pid}"}, follow_redirects=True)
    assert b"at least 10 characters" in response.data
    other = app.test_client()
    other.post("/login", data={"email": email, "password": "correct-horse-battery"})
    client.post(f"/admin/people/{pid}/password", data={"password": "a-brand-new-secret"})
    assert other.get("/dashboard").status_code == 302
    assert other.post("/login", data={"email": email, "password": "a-brand-new-secret"}).status_code == 302


def test_tokens_are_shown_once_and_revocable(app, client, make_person, admin):
    email = make_person("bot@example.com", permissions=["view"])
    with app.app_context():
        pid = find_person(email).id
    response = client.post("/admin/tokens", data={"person": pid, "name": "listening tool", "scope": "alerts"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/tokens"  # a reload repeats nothing
    secret = client.get("/admin/tokens").data.split(b'class="secret">')[1].split(b"<")[0].decode()
    assert secret.startswith("crisis_")
    # Never shown again.
    assert secret.encode() not in client.get("/admin/tokens").data
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.scope == "alerts"
        token_id = token.id
    client.post(f"/admin/tokens/{token_id}/revoke")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert [a for _, a, _ in audit_actions(app)] == ["token.created", "token.revoked"]


def test_authorise_and_revoke_a_spokesperson(app, client, make_person, admin):
    email = make_person("voice@example.com", permissions=["publish", "view"])
    with app.app_context():
        pid = find_person(email).id
    client.post("/admin/spokespeople", data={"person": pid, "platform": "x", "trained_on": "2026-10-01"})
    client.post("/admin/spokespeople", data={"person": pid, "platform": "instagram", "trained_on": ""})
    response = client.post("/admin/spokespeople", data={"person": pid, "platform": "x", "trained_on": "2026-10-01"},
                           headers={"Referer": "/admin/spokespeople"}, follow_redirects=True)
    assert b"already authorised for x" in response.data
    response = client.post("/admin/spokespeople", data={"person": pid, "platform": "tiktok", "trained_on": "2027-01-01"},
                           headers={"Referer": "/admin/spokespeople"}, follow_redirects=True)
    assert b"cannot be in the future" in response.data
    with app.app_context():
        rows = db.session.scalars(select(SpokespersonAuthorisation).order_by(SpokespersonAuthorisation.id)).all()
        assert [(r.platform, r.is_live) for r in rows] == [("x", True), ("instagram", False)]
        first = rows[0].id
    client.post(f"/admin/spokespeople/{first}/revoke")
    page = client.get("/admin/spokespeople").data
    assert b"revoked" in page
    assert [a for _, a, _ in audit_actions(app)] == ["spokesperson.authorised", "spokesperson.authorised", "spokesperson.revoked"]


def test_holding_statement_library_records_who_approved_it_and_when(app, client, admin, clock):
    client.post("/admin/holding-statements", data={"title": "Aware", "platform": "", "body": "We're aware of {incident_title}."})
    page = client.get("/admin/holding-statements").data
    assert b"approved by Root" in page
    with app.app_context():
        entry = db.session.scalars(select(HoldingStatement)).one()
        assert entry.approved_by.email == admin
        assert entry.approved_at == clock.current
        entry_id = entry.id
    client.post(f"/admin/holding-statements/{entry_id}/retire")
    with app.app_context():
        assert db.session.get(HoldingStatement, entry_id).retired_at is not None
    assert [a for _, a, _ in audit_actions(app)] == ["holding_statement.added", "holding_statement.retired"]


def test_the_audit_trail_is_append_only(app, client, admin):
    client.post("/admin/holding-statements", data={"title": "Aware", "platform": "", "body": "We're aware."})
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).one()
        event.action = "something.else"
        with pytest.raises(AuditRewrite):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditRewrite):
            db.session.delete(db.session.scalars(select(AuditEvent)).one())
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditRewrite):
            db.session.execute(db.update(AuditEvent).values(action="x"))
        db.session.rollback()


def test_recording_training_lets_an_authorised_spokesperson_publish(app, client, make_person, admin):
    from crisis.statements.service import is_spokesperson

    email = make_person("voice@example.com", permissions=["publish", "view"])
    with app.app_context():
        pid = find_person(email).id
    client.post("/admin/spokespeople", data={"person": pid, "platform": "x", "trained_on": ""})
    with app.app_context():
        authorisation_id = db.session.scalars(select(SpokespersonAuthorisation.id)).one()
        assert not is_spokesperson(find_person(email), "x")
    assert b"Record training" in client.get("/admin/spokespeople").data
    response = client.post(f"/admin/spokespeople/{authorisation_id}/trained", data={"trained_on": "2027-02-01"},
                           headers={"Referer": "/admin/spokespeople"}, follow_redirects=True)
    assert b"cannot be in the future" in response.data
    response = client.post(f"/admin/spokespeople/{authorisation_id}/trained", data={"trained_on": "2026-11-20"}, follow_redirects=True)
    assert b"is trained and may now publish on x" in response.data
    with app.app_context():
        assert is_spokesperson(find_person(email), "x")
    assert [a for _, a, _ in audit_actions(app)] == ["spokesperson.authorised", "spokesperson.trained"]
