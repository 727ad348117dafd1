"""Bearer-token checks: one query, the person loaded only on demand, use recorded once a minute."""

from __future__ import annotations

from sqlalchemy import select

from crisis.extensions import db
from crisis.people.models import ApiToken, Person, PersonPermission


def _token(app) -> ApiToken:
    with app.app_context():
        token = db.session.scalar(select(ApiToken))
        db.session.expunge(token)
        return token


def test_a_read_records_the_token_use_at_most_once_a_minute(app, make_person, api_client, clock, sql_statements):
    make_person("bot@example.com")
    bot = api_client("bot@example.com")
    assert _token(app).last_used_at is None

    assert bot.get("/api/v1/me").status_code == 200
    # Committed on its own: the read's transaction writes nothing and is rolled back.
    assert _token(app).last_used_at == clock()
    first = clock()

    clock.advance(seconds=59)
    sql_statements.clear()
    assert bot.get("/api/v1/me").status_code == 200
    assert sql_statements.writes() == []
    assert _token(app).last_used_at == first

    clock.advance(seconds=1)
    assert bot.get("/api/v1/me").status_code == 200
    assert _token(app).last_used_at == clock()


def test_a_write_records_the_token_use_with_its_change(app, synced, make_person, api_client, clock):
    make_person("lead@example.com", permissions=["declare", "view"])
    lead = api_client("lead@example.com")
    clock.advance(minutes=5)
    body = {"playbook": "viral-complaint", "title": "Kettle video", "severity": "SEV3"}
    assert lead.post("/api/v1/incidents", json=body).status_code == 201
    assert _token(app).last_used_at == clock()


def test_a_refused_token_records_no_use(app, make_person, api_client, sql_statements):
    make_person("viewer@example.com", permissions=["view"])
    viewer = api_client("viewer@example.com")
    sql_statements.clear()
    response = viewer.post("/api/v1/incidents", json={})
    assert response.status_code == 403
    assert response.json["error"]["message"] == "This needs the 'declare' permission"
    assert sql_statements.writes() == []
    assert _token(app).last_used_at is None


def test_disabling_a_person_or_dropping_a_permission_acts_on_the_next_request(app, make_person, api_client):
    make_person("bot@example.com", permissions=["view"])
    bot = api_client("bot@example.com")
    assert bot.get("/api/v1/incidents").status_code == 200

    with app.app_context():
        db.session.execute(PersonPermission.__table__.delete())
        db.session.commit()
    assert bot.get("/api/v1/incidents").status_code == 403
    assert bot.get("/api/v1/me").status_code == 200  # needs a token, no permission

    with app.app_context():
        # Disabled without its tokens revoked (set_active revokes them too): still refused.
        db.session.scalar(select(Person)).active = False
        db.session.commit()
    response = bot.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["message"] == "The bearer token is unknown or revoked"


def test_admin_passes_every_permission_check(make_person, api_client, synced):
    make_person("root@example.com", permissions=["admin"])
    root = api_client("root@example.com")
    assert root.get("/api/v1/incidents").status_code == 200
    body = {"playbook": "viral-complaint", "title": "Kettle video", "severity": "SEV3"}
    assert root.post("/api/v1/incidents", json=body).status_code == 201


def test_the_person_and_token_load_only_when_the_endpoint_asks(app, make_person, api_client, sql_statements):
    from flask import g

    from crisis.api.routing import check_bearer, current_actor, current_token

    make_person("bot@example.com", permissions=["view"], roles=["legal"])
    secret = api_client("bot@example.com").token
    sql_statements.clear()
    with app.test_request_context("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}):
        check_bearer(permission="view")
        checked = sql_statements.kinds()
        assert "api_person" not in g and "api_token" not in g
        person = current_actor()
        assert person.email == "bot@example.com"
        assert current_actor() is person
        assert person.can("view") and not person.can("declare")
        assert person.holds_role("legal")
        assert current_token().id == g.api_token_id
        assert current_token().person_id == person.id
    # The check is one SELECT (then recording the token's first use).
    assert checked == ["SELECT", "UPDATE"], sql_statements
