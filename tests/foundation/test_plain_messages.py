"""The message sweep (tests/support/message_sweep.py) catches what the issue found, and lets plain words pass."""

from __future__ import annotations

import pytest

from tests.support.message_sweep import unreadable


@pytest.mark.parametrize("message", [
    "step pause-scheduled-posts is already done by social@example.com at 2026-12-02T01:02:59.218691+00:00",
    "2 required step(s) still open; resolve anyway with a reason (force_reason)",
    "due 2026-12-02 01:12",
])
def test_log_like_messages_are_caught(message):
    assert unreadable(message)


@pytest.mark.parametrize("message", [
    "“Pause scheduled posts” is already done by Sam Social.",
    "2 required steps are still open (“Resolve”). Finish or skip them first, or give a reason to resolve anyway.",
])
def test_plain_messages_pass(message):
    assert unreadable(message) is None


def test_a_refused_resolve_says_so_plainly_on_the_page(app, team, incident_factory, client, login):
    ref = incident_factory()
    login(team.lead)
    response = client.post(f"/incidents/{ref}/change", data={"status": "resolved"},
                           headers={"Referer": f"http://localhost/incidents/{ref}"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "give a reason to resolve anyway" in page and "force_reason)" not in page


def test_a_refused_add_person_form_keeps_what_was_typed(app, team, client, login):
    login(team.admin)
    response = client.post("/admin/people", data={
        "email": "new.person@example.com", "name": "New Person", "password": "short", "permissions": ["respond"],
        "roles": "legal",
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="new.person@example.com"' in page and 'value="New Person"' in page and 'value="legal"' in page
    assert 'value="respond" checked' in page
    assert page.index("The password must be at least 10 characters.") < page.index('name="permissions"')
    assert "Declare incidents from a playbook" in page  # each permission explained
