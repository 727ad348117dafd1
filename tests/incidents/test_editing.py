"""Correcting an incident's title, summary and links after declaring: domain, web, API and CLI."""

from __future__ import annotations

import pytest

from crisis.errors import Forbidden, InvalidInput
from crisis.incidents.editing import edit_incident
from tests.support.incidents import act, counts, events, incident_state

LINK = [("tiktok", "https://www.tiktok.com/@kettle/video/1")]


def test_each_changed_field_is_one_timeline_event(app, team, incident_factory):
    ref = incident_factory(links=LINK, summary="40k views")
    changed = act(app, edit_incident, ref, team.lead, title="Kettle video: 100k views", summary="100k views",
                  links=[("x", "https://x.com/a/status/1"), ("tiktok", "https://www.tiktok.com/@kettle/video/1")])
    assert changed == ["title", "summary", "links"]
    incident = incident_state(app, ref)
    assert incident["title"] == "Kettle video: 100k views"
    assert incident["links"] == [{"platform": "x", "url": "https://x.com/a/status/1"},
                                 {"platform": "tiktok", "url": "https://www.tiktok.com/@kettle/video/1"}]
    edited = events(app, ref, "incident.edited")
    assert [e["data"]["field"] for e in edited] == ["title", "summary", "links"]
    assert edited[0]["data"]["from"] == "Customer video about a broken kettle is going viral"
    assert edited[0]["summary"] == "Lead changed the title to “Kettle video: 100k views”"


def test_an_unchanged_value_writes_nothing_and_links_can_be_removed(app, team, incident_factory):
    ref = incident_factory(links=LINK)
    assert act(app, edit_incident, ref, team.lead, title="Customer video about a broken kettle is going viral") == []
    assert events(app, ref, "incident.edited") == []
    assert act(app, edit_incident, ref, team.lead, links=[]) == ["links"]
    assert incident_state(app, ref)["links"] == []


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({}, InvalidInput, "body"),
        ({"title": "  "}, InvalidInput, "title"),
        ({"links": [("x", "javascript:alert(1)")]}, InvalidInput, "links.0.url"),
        ({"summary": "x" * 10_001}, InvalidInput, "summary"),
    ],
)
def test_bad_edits_name_the_field_and_change_nothing(app, team, incident_factory, changes, error, field):
    ref = incident_factory(links=LINK)
    before, state = counts(app), incident_state(app, ref)
    with pytest.raises(error) as caught:
        act(app, edit_incident, ref, team.lead, **changes)
    assert caught.value.field == field
    assert caught.value.message[0].isupper()
    assert counts(app) == before and incident_state(app, ref) == state


def test_only_those_who_manage_the_incident_may_edit_it(app, team, incident_factory):
    ref = incident_factory()
    with pytest.raises(Forbidden):
        act(app, edit_incident, ref, team.care, title="Mine now")
    assert incident_state(app, ref)["title"] == "Customer video about a broken kettle is going viral"


def test_the_web_form_saves_and_a_refused_one_keeps_what_was_typed(app, team, incident_factory, client, login):
    ref = incident_factory(links=LINK)
    login(team.lead)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert 'action="/incidents/INC-2026-0001/edit"' in page
    response = client.post(f"/incidents/{ref}/edit", data={
        "title": "Kettle video", "summary": "Now on the news", "links": "https://www.tiktok.com/@kettle/video/1",
    })
    assert response.status_code == 302
    assert incident_state(app, ref)["title"] == "Kettle video"
    assert "Saved the new title and summary" in client.get(response.headers["Location"]).get_data(as_text=True)
    before = counts(app)
    refused = client.post(f"/incidents/{ref}/edit", data={
        "title": "Typed but refused", "summary": "kept", "links": "x javascript:alert(1)",
    })
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'value="Typed but refused"' in body and "x javascript:alert(1)" in body
    assert 'id="edit-links-error"' in body and "Line 1 of the links" in body
    assert counts(app) == before


def test_the_api_patch_corrects_title_summary_and_links(app, team, incident_factory, api_client):
    ref = incident_factory(links=LINK)
    api = api_client(team.lead)
    response = api.patch(f"/api/v1/incidents/{ref}", json={
        "title": "Kettle video", "links": [{"platform": "x", "url": "https://x.com/a/status/1"}],
    })
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Kettle video"
    assert response.json["links"] == [{"platform": "x", "url": "https://x.com/a/status/1"}]
    assert [e["data"]["field"] for e in events(app, ref, "incident.edited")] == ["title", "links"]
    bad = api.patch(f"/api/v1/incidents/{ref}", json={"title": ""})
    assert bad.status_code == 400 and bad.json["error"]["field"] == "title"
    refused = api_client(team.care).patch(f"/api/v1/incidents/{ref}", json={"title": "x"})
    assert refused.status_code == 403
    assert incident_state(app, ref)["title"] == "Kettle video"


def test_the_cli_edits_an_incident(app, team, incident_factory, runner):
    ref = incident_factory(links=LINK)
    result = runner.invoke(args=["incidents", "edit", ref, "--as", team.lead, "--title", "Kettle video",
                                 "--link", "x=https://x.com/a/status/1"])
    assert result.exit_code == 0, result.output
    assert "changed title, links" in result.output
    assert incident_state(app, ref)["links"] == [{"platform": "x", "url": "https://x.com/a/status/1"}]
    result = runner.invoke(args=["incidents", "edit", ref, "--as", team.lead, "--no-links"])
    assert result.exit_code == 0 and incident_state(app, ref)["links"] == []
    result = runner.invoke(args=["incidents", "edit", ref, "--as", team.lead])
    assert result.exit_code != 0 and "Nothing to change" in result.output
