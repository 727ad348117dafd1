"""The executive timeline page: SVG chart, late steps, kind filters, live fragment, exports."""

from __future__ import annotations

import csv
import io
import json

from crisis.extensions import db


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_timeline_shows_svg_with_late_step_escalation_and_statement(app, client, team, login, desk, incident_factory, clock):
    from crisis.escalation.engine import run_sweep

    ref = incident_factory(severity="SEV2")
    clock.advance(minutes=5)
    desk.change(ref, team.lead, severity="SEV1")
    desk.publish_holding_statement(ref)
    clock.advance(minutes=20)  # gather-facts (due 15 min after declaring) is now late
    with app.app_context():
        run_sweep()
        db.session.commit()
    login(team.exec)
    page = _page(client, f"/incidents/{ref}/timeline")
    svg = page[page.index("<svg"): page.index("</svg>")]
    assert 'class="tl-chart tl-wide"' in page and 'class="tl-chart tl-narrow"' in page and "<script" not in page.split("</head>")[1]
    assert "Gather the facts" in svg
    assert 'class="tl-late"' in svg and "tl-label-late" in svg  # the late step, marked
    assert 'class="tl-escalation"' in svg  # the sweep's escalation
    assert "tl-incident-severity-changed" in svg and ">SEV1<" in svg  # the severity change
    assert "tl-statement-published" in svg
    assert 'class="tl-due"' in svg and 'class="tl-done"' in svg
    assert "not started yet" in svg and "Notify stakeholders" not in svg  # no lane for steps not started
    assert "Late:" in page and "overdue by" in page
    assert "We are aware and looking into it." in page  # what was said in public
    assert 'data-refresh-url="/incidents/' in page  # open: refreshes itself


def test_kind_filter_limits_the_event_list(client, team, login, desk, incident_factory, clock):
    ref = incident_factory()
    clock.advance(minutes=2)
    desk.ack(ref, "gather-facts", team.lead)
    desk.change(ref, team.lead, severity="SEV1")
    login(team.exec)
    everything = _page(client, f"/incidents/{ref}/timeline")
    steps_only = _page(client, f"/incidents/{ref}/timeline?kind=step.")
    events_all = everything.split('id="events"')[1]
    events_steps = steps_only.split('id="events"')[1]
    assert "incident severity changed" in events_all and "incident severity changed" not in events_steps
    assert "step acknowledged" in events_steps
    assert 'of kind “step.”' in events_steps
    none = _page(client, f"/incidents/{ref}/timeline?kind=statement.")
    assert "No events of kind" in none.split('id="events"')[1]


def test_bad_kind_is_a_clear_error(client, team, login, incident_factory):
    ref = incident_factory()
    login(team.exec)
    response = client.get(f"/incidents/{ref}/timeline?kind=<script>")
    assert response.status_code == 422
    assert "is not an event kind" in response.get_data(as_text=True)
    assert client.get(f"/incidents/{ref}/timeline.csv?kind=DROP TABLE").status_code == 422


def test_unknown_incident_is_404(client, team, login):
    login(team.exec)
    for url in ("/incidents/INC-2026-9999/timeline", "/incidents/INC-2026-9999/timeline.json",
                "/incidents/INC-2026-9999/report.md", "/incidents/INC-2026-9999/report"):
        assert client.get(url).status_code == 404, url


def test_live_fragment_and_no_refresh_once_resolved(client, team, login, desk, incident_factory, clock):
    ref = incident_factory()
    login(team.exec)
    fragment = _page(client, f"/incidents/{ref}/timeline/live?kind=step.")
    assert "<html" not in fragment and "<svg" in fragment and "step activated" in fragment
    clock.advance(hours=1)
    desk.resolve(ref)
    page = _page(client, f"/incidents/{ref}/timeline")
    assert "data-refresh-url" not in page
    assert "incident status changed" in page


def test_csv_and_json_exports_match_the_timeline(app, client, team, login, desk, incident_factory, clock):
    ref = incident_factory()
    clock.advance(minutes=3)
    desk.complete(ref, "gather-facts", team.lead, note="=HYPERLINK(\"http://evil\") facts gathered")
    login(team.exec)
    response = client.get(f"/incidents/{ref}/timeline.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    body = json.loads(response.data)
    assert body["incident"] == ref
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[0] == "incident.declared" and "step.completed" in kinds
    assert body["events"] == sorted(body["events"], key=lambda e: e["at"])
    assert set(body["events"][0]) == {"at", "kind", "actor", "summary", "data"}
    # The same shape the API serves.
    api = client.get(f"/api/v1/incidents/{ref}/timeline")
    if api.status_code == 200:
        assert api.get_json()["events"] == body["events"]

    response = client.get(f"/incidents/{ref}/timeline.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["kind"] for r in rows] == kinds
    completed = next(r for r in rows if r["kind"] == "step.completed")
    assert completed["step"] == "gather-facts" and completed["actor"] == team.lead
    assert json.loads(completed["data"])["step"] == "gather-facts"
    # Every cell that a spreadsheet would run as a formula is defused.
    for row in rows:
        for name in ("actor", "summary", "step"):
            assert not row[name].startswith(("=", "+", "-", "@"))

    steps_only = client.get(f"/incidents/{ref}/timeline.json?kind=step.completed").get_json()
    assert [e["kind"] for e in steps_only["events"]] == ["step.completed"]


def test_timeline_escapes_what_people_typed(client, team, login, incident_factory):
    ref = incident_factory(title='<img src=x onerror="alert(1)"> & friends')
    login(team.exec)
    page = _page(client, f"/incidents/{ref}/timeline")
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page


def test_csv_defuses_formula_cells(app, client, team, login, make_person, incident_factory):
    from crisis.incidents.service import add_note, get_incident
    from crisis.people.service import get_person

    ref = incident_factory()
    make_person("evil@example.com", name="=cmd|'/c calc'!A1", permissions=("respond", "view"))
    with app.app_context():
        add_note(incident=get_incident(ref), actor=get_person("evil@example.com"), text="+1 agreed")
        db.session.commit()
    login(team.exec)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/incidents/{ref}/timeline.csv").get_data(as_text=True))))
    note = next(r for r in rows if r["kind"] == "incident.note")
    assert note["summary"] == "'=cmd|'/c calc'!A1: +1 agreed"
