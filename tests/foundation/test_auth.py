"""Signing in and out, CSRF, API tokens."""

from __future__ import annotations

import re

from crisis.extensions import db
from crisis.people.models import Person
from crisis.people.service import create_token, get_person, revoke_token


def test_login_succeeds_and_lands_on_dashboard(client, make_person, login):
    make_person("casey@example.com", permissions=["view"])
    response = login("casey@example.com")
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert b"Open incidents" in page.data


def test_login_is_case_insensitive_on_email(client, make_person):
    make_person("casey@example.com")
    response = client.post("/login", data={"email": "Casey@Example.COM", "password": "correct-horse-battery"})
    assert response.status_code == 302


def test_login_fails_with_wrong_password_and_sets_no_session(client, make_person):
    make_person("casey@example.com")
    response = client.post("/login", data={"email": "casey@example.com", "password": "wrong-password-x"})
    assert response.status_code == 401
    assert b"Email or password is wrong" in response.data
    assert client.get("/dashboard").status_code == 302


def test_disabled_person_cannot_sign_in(app, client, make_person):
    make_person("gone@example.com")
    with app.app_context():
        person = db.session.scalar(db.select(Person).filter_by(email="gone@example.com"))
        person.active = False
        db.session.commit()
    response = client.post("/login", data={"email": "gone@example.com", "password": "correct-horse-battery"})
    assert response.status_code == 401


def test_pages_redirect_to_login_when_signed_out(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_logout_ends_the_session_server_side(client, make_person, login):
    make_person("casey@example.com")
    login("casey@example.com")
    with client.session_transaction() as session:
        stolen = dict(session)
    client.post("/logout")
    assert client.get("/dashboard").status_code == 302
    # Replaying the old session cookie contents must not sign anyone back in.
    with client.session_transaction() as session:
        session.update(stolen)
    assert client.get("/dashboard").status_code == 302


def test_form_post_without_csrf_token_is_rejected(app, make_person):
    app.config["WTF_CSRF_ENABLED"] = True
    make_person("casey@example.com")
    client = app.test_client()
    response = client.post("/login", data={"email": "casey@example.com", "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    # With the token from the form, the same post succeeds.
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1).decode()
    response = client.post(
        "/login", data={"email": "casey@example.com", "password": "correct-horse-battery", "csrf_token": token}
    )
    assert response.status_code == 302


def test_api_accepts_a_valid_token(make_person, api_client):
    make_person("bot@example.com", permissions=["declare", "view"])
    response = api_client("bot@example.com").get("/api/v1/me")
    assert response.status_code == 200
    assert response.json["email"] == "bot@example.com"
    assert response.json["permissions"] == ["declare", "view"]


def test_cookieless_api_calls_get_no_session_cookie_and_signed_in_pages_keep_theirs(app, make_person, login):
    make_person("bot@example.com", permissions=["view"])
    make_person("casey@example.com", permissions=["view"])
    with app.app_context():
        _, secret = create_token(person=get_person("bot@example.com"), name="test")
        db.session.commit()
    bare = app.test_client(use_cookies=False)
    answer = bare.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    # A browser's session still works: the cookie is set at login and read back on the next page.
    signed_in = login("casey@example.com")
    assert "session=" in signed_in.headers["Set-Cookie"]
    page = app.test_client()
    page.set_cookie("session", signed_in.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
    assert page.get("/dashboard").status_code == 200
    assert bare.get("/dashboard").status_code == 302  # no cookie: signed out


def test_api_without_token_is_401_json(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "bearer" in response.json["error"]["message"].lower()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_with_unknown_token_is_401_json(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer crisis_nope"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_api_with_revoked_token_is_401_json(app, make_person, api_client):
    make_person("bot@example.com")
    bot = api_client("bot@example.com")
    assert bot.get("/api/v1/me").status_code == 200
    with app.app_context():
        from crisis.people.models import ApiToken

        token = db.session.scalar(db.select(ApiToken))
        revoke_token(token_id=token.id)
        db.session.commit()
    response = bot.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized", "message": "The bearer token is unknown or revoked"}}


def test_alerts_scoped_token_cannot_call_the_general_api(make_person, api_client):
    make_person("monitor@example.com", permissions=["declare"])
    response = api_client("monitor@example.com", scope="alerts").get("/api/v1/me")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_only_a_hash_of_the_token_is_stored(app, make_person, api_client):
    make_person("bot@example.com")
    secret = api_client("bot@example.com").token
    with app.app_context():
        from crisis.people.models import ApiToken

        token = db.session.scalar(db.select(ApiToken))
        assert secret not in (token.token_hash, token.prefix)
        assert len(token.token_hash) == 64
