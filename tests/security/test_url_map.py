"""Every route declares who may call it, and the declaration holds for every permission.

Walks `app.url_map`: a route added without `permission_required`/`public`/`api_route`
fails `test_every_endpoint_declares_its_rule`, and each declared rule is checked signed
out (302 to the login page, 401 under /api/), by a person holding every other permission
but not the required one (403), by a person holding only the required one, and by an admin
(neither refused).
"""

from __future__ import annotations

import pytest

from crisis.extensions import db
from tests.support.constants import PASSWORD
from tests.support.url_map import (
    BUILT_IN_PUBLIC,
    PERMISSIONS,
    ROUTES,
    SELF_AUTHENTICATED,
    _path,
    _walk_app,
    module_app,
)


@pytest.fixture(scope="module")
def walk(postgres_database, tmp_path_factory):
    """One app and database for the whole walk: per permission, a holder and a lacker."""
    from crisis.people.service import create_person, create_token

    app = module_app(postgres_database, tmp_path_factory)
    tokens = {}
    with app.app_context():
        for permission in PERMISSIONS:
            others = [p for p in PERMISSIONS if p not in (permission, "admin")]
            for label, granted in (("has", [permission]), ("lacks", others)):
                email = f"{label}-{permission}@example.com"
                person = create_person(email=email, name=email, password=PASSWORD, permissions=granted)
                tokens[email] = create_token(person=person, name="walk")[1]
        person = create_person(email="nothing@example.com", name="Nothing", password=PASSWORD)
        tokens["nothing@example.com"] = create_token(person=person, name="walk")[1]
        db.session.commit()
    yield app, tokens
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _call(app, tokens, method: str, path: str, email: str | None):
    client = app.test_client()
    headers = {}
    if path.startswith("/api/"):
        if email:
            headers["Authorization"] = f"Bearer {tokens[email]}"
        return client.open(path, method=method, headers=headers, json={} if method != "GET" else None)
    if email:
        login = client.post("/login", data={"email": email, "password": PASSWORD})
        assert login.status_code == 302, f"login for {email} failed"
    return client.open(path, method=method, data={})


def test_every_endpoint_declares_its_rule():
    app = _walk_app()
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILT_IN_PUBLIC:
            continue
        declared = getattr(app.view_functions[rule.endpoint], "required_permission", None)
        if declared is None:
            missing.append(f"{rule.endpoint} ({rule.rule})")
        else:
            assert declared in {"public", "authenticated", *PERMISSIONS}, f"{rule.endpoint}: unknown rule {declared!r}"
    assert not missing, "routes without permission_required/public/api_route: " + ", ".join(sorted(missing))


def test_the_walk_covers_web_and_api_routes():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert any(e.startswith("api.") for e in endpoints)
    assert {"statements.publish", "admin.people", "people.login"} <= endpoints


@pytest.mark.parametrize(("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES])
def test_route_enforces_its_declared_permission(walk, endpoint, rule, method):
    app, tokens = walk
    required = "public" if endpoint in BUILT_IN_PUBLIC else app.view_functions[endpoint].required_permission
    path = _path(app, endpoint, rule)
    is_api = path.startswith("/api/")

    signed_out = _call(app, tokens, method, path, None)
    if endpoint in SELF_AUTHENTICATED:
        # Alert intake checks its own token (it may come in the body): a general token needs
        # the declare permission, because alerts open incidents.
        assert signed_out.status_code == 401, f"{method} {path} signed out: {signed_out.status_code}"
        response = _call(app, tokens, method, path, "nothing@example.com")
        assert response.status_code == 403, f"{method} {path} took a token without declare: {response.status_code}"
        response = _call(app, tokens, method, path, "has-declare@example.com")
        assert response.status_code not in (401, 403), f"{method} {path} refused a declare token: {response.status_code}"
        return
    if required == "public":
        assert signed_out.status_code not in (401, 403), f"{method} {path} is public but refused {signed_out.status_code}"
        assert "/login" not in signed_out.headers.get("Location", "") or endpoint == "people.index"
        return
    if is_api:
        assert signed_out.status_code == 401, f"{method} {path} signed out: {signed_out.status_code}"
    else:
        assert signed_out.status_code == 302, f"{method} {path} signed out: {signed_out.status_code}"
        assert "/login" in signed_out.headers["Location"]

    if required == "authenticated":
        response = _call(app, tokens, method, path, "nothing@example.com")
        assert response.status_code not in (401, 403), f"{method} {path} refused a signed-in person: {response.status_code}"
        return

    lacking = _call(app, tokens, method, path, f"lacks-{required}@example.com")
    assert lacking.status_code == 403, f"{method} {path} needs {required!r} but a person without it got {lacking.status_code}"
    holding = _call(app, tokens, method, path, f"has-{required}@example.com")
    assert holding.status_code not in (401, 403), f"{method} {path} refused a holder of {required!r}: {holding.status_code}"
    if not is_api:
        assert "/login" not in holding.headers.get("Location", "")
    if required != "admin":
        # Admin holds every permission.
        admin = _call(app, tokens, method, path, "has-admin@example.com")
        assert admin.status_code not in (401, 403), f"{method} {path} refused an admin: {admin.status_code}"
