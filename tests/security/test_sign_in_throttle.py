"""Finding 10a: an attack from one address must not lock out the people who share it.

A company's office signs in through one address. Guessing one account's password and spraying
one password over many accounts are still throttled; a colleague's correct password is not.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from crisis.extensions import db
from crisis.people.models import LoginFailure
from tests.support.constants import PASSWORD

OFFICE = "203.0.113.7"


def _post(client, email: str, password: str, ip: str = OFFICE):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def _spray(client, count: int = 50, ip: str = OFFICE) -> None:
    for n in range(count):
        assert _post(client, f"guess{n}@example.com", "Winter2026!", ip).status_code == 401


def _failures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(LoginFailure.id)))


def test_a_correct_password_signs_in_from_an_address_under_attack(client, make_person):
    make_person("casey@example.com")
    make_person("robin@example.com")
    _spray(client)
    assert _post(client, "casey@example.com", PASSWORD).status_code == 302
    client.post("/logout")
    # Another colleague behind the same address, too.
    assert _post(client, "robin@example.com", PASSWORD).status_code == 302


def test_spraying_past_the_address_limit_gets_one_guess_per_account_and_then_is_refused(app, client, make_person):
    make_person("casey@example.com")
    _spray(client)
    # A wrong guess at a fresh account is checked, counted and refused like every guess after it.
    first = _post(client, "casey@example.com", "Spring2026!")
    assert first.status_code == 429
    assert b"Too many failed sign-ins from your address." in first.data
    before = _failures(app)
    # That account now has a failure: from the busy address not even its right password is tried.
    again = _post(client, "casey@example.com", PASSWORD)
    assert again.status_code == 429
    assert _failures(app) == before
    # Unknown accounts are refused the same way, so the answer does not tell who exists.
    assert _post(client, "nobody@example.com", "Spring2026!").status_code == 429
    # Another address is not slowed, and the same person signs in from there.
    assert _post(client, "casey@example.com", PASSWORD, ip="198.51.100.1").status_code == 302


def test_guessing_one_account_from_one_address_is_still_locked(client, make_person):
    make_person("casey@example.com")
    for _ in range(5):
        assert _post(client, "casey@example.com", "wrong").status_code == 401
    assert _post(client, "casey@example.com", PASSWORD).status_code == 429
    # The colleague at the next desk is not.
    make_person("robin@example.com")
    assert _post(client, "robin@example.com", PASSWORD).status_code == 302


def test_guessing_one_account_from_many_addresses_locks_that_account_only(client, make_person, clock):
    make_person("casey@example.com")
    make_person("robin@example.com")
    for n in range(20):
        assert _post(client, "casey@example.com", "wrong", ip=f"198.51.100.{n // 4 + 1}").status_code == 401
    blocked = _post(client, "casey@example.com", PASSWORD, ip="192.0.2.9")
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins for this account." in blocked.data
    assert _post(client, "robin@example.com", PASSWORD, ip="192.0.2.9").status_code == 302
    client.post("/logout")
    clock.advance(minutes=15, seconds=1)
    assert _post(client, "casey@example.com", PASSWORD, ip="192.0.2.9").status_code == 302


def test_the_refusal_says_when_to_retry_in_local_time_in_words(app, client, make_person, clock):
    app.config["TIMEZONE"] = "Europe/Paris"
    make_person("casey@example.com")
    _spray(client)
    clock.advance(minutes=3, seconds=20)
    text = _post(client, "nobody@example.com", "x").get_data(as_text=True)
    # The first spray failure was at 09:00 UTC, 10:00 in Paris: the address is free after 10:15.
    assert "Too many failed sign-ins from your address. Try again after 10:15 CET (in 11 min)." in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)
