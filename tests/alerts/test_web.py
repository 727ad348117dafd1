"""Web pages: /alerts, /alerts/<id> (confirm, dismiss), /alerts/report, /alerts/mine."""

from __future__ import annotations

import re

from crisis.alerts.models import Alert
from tests.support.alerts import AM, payload


def test_pages_need_a_signed_in_person(client):
    for path in ("/alerts", "/alerts/report", "/alerts/mine", "/alerts/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_the_list_needs_the_view_permission(client, login, make_person):
    make_person("temp@example.com", permissions=())
    login("temp@example.com")

    assert client.get("/alerts").status_code == 403
    page = client.get("/alerts/report")
    assert page.status_code == 200
    # Without view, the nav offers reporting instead of the list.
    assert b'href="/alerts/report" aria-current="page">Report something</a>' in page.data


def test_empty_states_say_how_alerts_arrive(client, login, team):
    login(team.lead)

    page = client.get("/alerts").get_data(as_text=True)
    assert "No alerts yet" in page
    assert "/api/v1/alerts/alertmanager" in page
    assert "tokens create EMAIL --scope alerts" in page
    assert "Nothing waits for a decision" in client.get("/alerts?show=pending").get_data(as_text=True)
    assert "You have not reported anything yet" in client.get("/alerts/mine").get_data(as_text=True)
    assert client.get("/alerts?show=bogus").status_code == 404


def test_the_list_shows_what_each_alert_became(client, login, team, intake):
    intake.post(AM, json=payload("alertmanager_firing"))
    intake.post(AM, json=payload("alertmanager_pending"))
    login(team.lead)

    page = client.get("/alerts").get_data(as_text=True)

    assert "Mentions of Example Co up 900% in 15 minutes on X" in page
    assert '<a href="/incidents/INC-2026-0001">INC-2026-0001</a>' in page
    assert "waiting for a decision" in page
    assert 'aria-current="page">Alerts</a>' in page
    pending = client.get("/alerts?show=pending").get_data(as_text=True)
    assert "Negative sentiment" in pending and "Mentions of Example Co" not in pending


def test_one_click_confirm_from_the_list_opens_the_incident(client, login, team, intake, stored):
    intake.post(AM, json=payload("alertmanager_pending"))
    login(team.lead)
    page = client.get("/alerts").get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/alerts/\d+/confirm)".*?</form>', page, re.S)
    fields = dict(re.findall(r'name="(playbook|severity)" value="([^"]*)"', form.group(0)))

    response = client.post(form.group(1), data=fields)

    [ref] = stored.incident_refs()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{ref}")
    incident = stored.incident(ref)
    assert (incident["playbook"]["key"], incident["severity"]) == ("viral-complaint", "SEV3")
    assert incident["title"] == "Negative sentiment above 40% for an hour on Facebook"
    assert stored.alerts()[0]["disposition"] == "incident"


def test_confirm_from_the_detail_page_with_other_choices(client, login, team, intake, stored):
    intake.post(AM, json=payload("alertmanager_pending"))
    [alert] = stored.alerts()
    login(team.lead)
    page = client.get(f"/alerts/{alert['id']}").get_data(as_text=True)
    assert '<option selected value="viral-complaint">' in page or 'value="viral-complaint" selected' in page

    client.post(f"/alerts/{alert['id']}/confirm",
                data={"playbook": "off-script-post", "severity": "SEV2", "title": "CEO interview backlash"})

    [ref] = stored.incident_refs()
    incident = stored.incident(ref)
    assert (incident["playbook"]["key"], incident["severity"], incident["title"]) == (
        "off-script-post", "SEV2", "CEO interview backlash")


def test_a_second_confirm_is_refused_with_a_message(client, login, team, intake, stored):
    intake.post(AM, json=payload("alertmanager_pending"))
    [alert] = stored.alerts()
    login(team.lead)
    data = {"playbook": "viral-complaint", "severity": "SEV3"}
    client.post(f"/alerts/{alert['id']}/confirm", data=data)

    response = client.post(f"/alerts/{alert['id']}/confirm", data=data, headers={"Referer": "/alerts"},
                           follow_redirects=True)

    assert f"is already part of incident {stored.incident_refs()[0]}" in response.get_data(as_text=True)
    assert len(stored.incident_refs()) == 1


def test_a_bad_confirm_form_changes_nothing(client, login, team, intake, stored):
    intake.post(AM, json=payload("alertmanager_pending"))
    [alert] = stored.alerts()
    login(team.lead)

    response = client.post(f"/alerts/{alert['id']}/confirm", data={"playbook": "nope", "severity": "SEV3"},
                           follow_redirects=True)

    assert "Not a valid choice" in response.get_data(as_text=True)
    assert stored.incident_refs() == []
    assert stored.alerts()[0]["disposition"] == "pending"


def test_viewers_see_alerts_but_cannot_decide(client, login, team, intake, stored):
    intake.post(AM, json=payload("alertmanager_pending"))
    [alert] = stored.alerts()
    login(team.viewer)

    assert "Open incident" not in client.get("/alerts").get_data(as_text=True)
    assert "Someone with the declare permission decides" in client.get(f"/alerts/{alert['id']}").get_data(as_text=True)
    assert client.post(f"/alerts/{alert['id']}/confirm", data={"playbook": "viral-complaint"}).status_code == 403
    assert client.post(f"/alerts/{alert['id']}/dismiss", data={}).status_code == 403
    assert stored.alerts()[0]["disposition"] == "pending"


def test_an_unknown_alert_is_a_404_page(client, login, team):
    login(team.lead)

    assert client.get("/alerts/999").status_code == 404


def test_an_employee_reports_with_just_a_link_and_follows_it(client, login, team, synced, stored, make_person):
    make_person("shop.floor@example.com", permissions=())
    login("shop.floor@example.com")
    form = client.get("/alerts/report").get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*name="url"|<input[^>]*name="url"[^>]*autofocus', form)

    response = client.post("/alerts/report", data={"url": "https://www.tiktok.com/@someone/video/1"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/alerts/mine")
    mine = client.get("/alerts/mine").get_data(as_text=True)
    assert "The triage lead has it" in mine
    assert "Reported post on tiktok: https://www.tiktok.com/@someone/video/1" in mine
    assert "waiting for a decision" in mine

    client.post("/logout")
    login(team.lead)
    [alert] = stored.alerts()
    client.post(f"/alerts/{alert['id']}/dismiss", data={"reason": "A known parody account; we watch it."})
    client.post("/logout")
    login("shop.floor@example.com")
    mine = client.get("/alerts/mine").get_data(as_text=True)
    assert "dismissed" in mine and "A known parody account; we watch it." in mine


def test_a_reporter_sees_the_incident_their_report_became(client, login, team, synced, stored):
    login(team.viewer)
    client.post("/alerts/report", data={"url": "https://x.com/a/status/9", "platform": "x",
                                        "concern": "Our ad shows the wrong price"})
    client.post("/logout")
    login(team.lead)
    [alert] = stored.alerts()
    assert alert["title"] == "Our ad shows the wrong price"
    client.post(f"/alerts/{alert['id']}/confirm", data={"playbook": "wrong-price", "severity": "SEV2"})
    client.post("/logout")
    login(team.viewer)

    mine = client.get("/alerts/mine").get_data(as_text=True)

    [ref] = stored.incident_refs()
    assert f'<a href="/incidents/{ref}">{ref}</a>' in mine


def test_a_bad_report_shows_the_problem_and_stores_nothing(client, login, team, stored):
    login(team.viewer)

    empty = client.post("/alerts/report", data={})
    bad = client.post("/alerts/report", data={"url": "not a link", "concern": "hmm"})

    assert empty.status_code == 422
    assert "Paste the link to what you saw" in empty.get_data(as_text=True)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "The link must be a web address" in text
    assert "hmm" in text  # what they typed is kept
    assert stored.count(Alert) == 0
