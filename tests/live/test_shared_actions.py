"""Responders offered the same actions on an incident share one live render, each with their own CSRF token."""

from __future__ import annotations

import re

from crisis.extensions import db
from crisis.incidents.service import action_profile, get_incident
from crisis.live.web import CSRF_SLOT
from crisis.people.service import get_person
from crisis.permissions import can_act_on_step, has_permission
from tests.support.constants import PASSWORD

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')




def _signed_in(app, email):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = TOKEN.search(page)
    data = {"email": email, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
    assert client.post("/login", data=data).status_code == 302
    return client


def _owners(app, ref):
    with app.app_context():
        return {step.key: step.owner.email for step in get_incident(ref).steps if step.owner is not None}


def test_the_profile_says_what_the_permission_rules_say(app, team, incident_factory):
    ref = incident_factory()
    with app.app_context():
        incident = get_incident(ref)
        for email in (team.admin, team.lead, team.triage_backup, team.social, team.care, team.legal, team.hr):
            person = get_person(email)
            leads, owned = action_profile(ref, person_id=person.id, admin=has_permission(person, "admin"))
            offered = {step.key for step in incident.steps if can_act_on_step(person, incident, step)}
            expected = {step.key for step in incident.steps} if leads else set(owned)
            assert offered == expected, email
        db.session.rollback()


def test_leads_share_one_render_each_with_a_token_that_works(app, team, incident_factory, renders):
    app.config["WTF_CSRF_ENABLED"] = True
    ref = incident_factory()
    lead, backup = _signed_in(app, team.lead), _signed_in(app, team.triage_backup)
    renders.clear()
    texts = [client.get(f"/live/incident/{ref}").get_data(as_text=True) for client in (lead, backup)]
    assert renders.count("incidents/_steps.html") == 1
    assert all(CSRF_SLOT not in text for text in texts)
    tokens = [set(TOKEN.findall(text)) for text in texts]
    assert all(len(found) == 1 for found in tokens) and tokens[0] != tokens[1]

    # The backup's token, from the shared render, is theirs: the form it sits in works for them.
    step = next(key for key, email in _owners(app, ref).items() if email != team.triage_backup)
    done = backup.post(f"/incidents/{ref}/steps/{step}/acknowledge", data={"csrf_token": tokens[1].pop()})
    assert done.status_code == 302
    with app.app_context():
        acknowledged = next(s for s in get_incident(ref).steps if s.key == step)
        assert acknowledged.acknowledged_at is not None


def test_step_owners_are_offered_only_their_own_steps(app, team, incident_factory, renders):
    ref = incident_factory()
    owners = _owners(app, ref)
    mine = sorted(key for key, email in owners.items() if email == team.social)
    theirs = sorted(key for key, email in owners.items() if email not in (team.social, team.lead))
    assert mine and theirs, owners
    renders.clear()
    social = _signed_in(app, team.social).get(f"/live/incident/{ref}").get_data(as_text=True)
    care = _signed_in(app, team.care).get(f"/live/incident/{ref}").get_data(as_text=True)
    assert renders.count("incidents/_steps.html") == 2  # two profiles, two renders
    for key in mine:
        assert f"/steps/{key}/assign" in social
    for key in theirs:
        assert f"/steps/{key}/assign" not in social
    assert social != care
