"""Busy days: the dashboard groups and pages open incidents, the timeline pages its events.

The limits are lowered here so a handful of incidents stands for a big day; the rules are the
same at the shipped sizes (crisis.executive.metrics, crisis.executive.timeline_page).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from crisis.executive import board as metrics
from crisis.executive import timeline_page
from crisis.extensions import db
from crisis.incidents.lifecycle import add_note
from crisis.incidents.service import get_incident
from crisis.people.service import get_person


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(metrics, "FRONT_LIMIT", 2)
    monkeypatch.setattr(metrics, "QUIET_LIMIT", 4)
    monkeypatch.setattr(metrics, "PAGE_SIZE", 2)
    monkeypatch.setattr(timeline_page, "PAGE_SIZE", 3)


@pytest.fixture
def big_day(incident_factory, clock, small_limits):
    """Three SEV1s, one SEV2, three SEV3s: more than the quiet limit."""
    refs = {}
    for index, severity in enumerate(("SEV1", "SEV1", "SEV1", "SEV2", "SEV3", "SEV3", "SEV3")):
        refs.setdefault(severity, []).append(incident_factory(title=f"Big day incident {index}", severity=severity))
        clock.advance(minutes=1)
    clock.advance(minutes=30)
    return refs


def _open_section(page: str) -> str:
    return page.split("Recently resolved")[0]


@pytest.mark.parametrize("who", ["exec", "lead"])
def test_busy_front_page_lists_the_high_severities_and_sums_up_the_rest(client, team, login, big_day, who):
    login(getattr(team, who))
    page = _open_section(client.get("/dashboard").get_data(as_text=True))
    assert re.search(r'tile-figure">7<', page)  # every open incident counted
    sev1 = page.split('id="sev-sev1"')[1].split('id="sev-sev2"')[0]
    assert sev1.count("<tr") == 1 + 2  # header and the two most urgent
    assert "showing 1–2, most urgent first" in sev1
    assert "List all 3 SEV1 incidents" in sev1 and 'href="/dashboard?severity=SEV1"' in sev1
    sev3 = page.split('id="sev-sev3"')[1]
    assert "3 open" in sev3 and "<table" not in sev3  # summed up, not listed
    assert "List the 3 SEV3 incidents, most urgent first" in sev3
    for ref in big_day["SEV3"]:
        assert ref not in page


@pytest.mark.parametrize("who", ["exec", "lead"])
def test_a_severity_pages_most_urgent_first(client, team, login, big_day, who):
    login(getattr(team, who))
    first = client.get("/dashboard?severity=SEV3")
    assert first.status_code == 200
    first_page = first.get_data(as_text=True)
    assert "Page 1 of 2" in first_page and 'href="/dashboard?severity=SEV3&amp;page=2"' in first_page
    assert "Recently resolved" not in first_page and 'href="/dashboard"' in first_page
    second_page = client.get("/dashboard?severity=SEV3&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second_page and "More urgent" in second_page and "Less urgent" not in second_page
    shown = [ref for ref in big_day["SEV3"] if ref in first_page] + [ref for ref in big_day["SEV3"] if ref in second_page]
    assert sorted(shown) == sorted(big_day["SEV3"])  # each once, across the two pages
    assert big_day["SEV1"][0] not in first_page  # only the severity asked for
    assert 'data-live-url="/live/board?severity=SEV3&amp;page=2"' in second_page
    fragment = client.get("/live/board?severity=SEV3&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in fragment
    beyond = client.get("/dashboard?severity=SEV3&page=5").get_data(as_text=True)
    assert "No SEV3 incidents on page 5" in beyond
    empty = client.get("/dashboard?severity=SEV4").get_data(as_text=True)
    assert "No open SEV4 incidents" in empty


def test_escalated_and_late_come_first(app, big_day, clock):
    from crisis.escalation.engine import run_sweep

    with app.app_context():
        late = get_incident(big_day["SEV1"][2])
        run_sweep()
        db.session.commit()
        board = metrics.load_board(severity="SEV1")
        rows = board.section.rows
        assert [r.escalation_level for r in rows] == sorted((r.escalation_level for r in rows), reverse=True)
        assert late.ref in [r.ref for r in metrics.load_board(severity="SEV1", page=2).open_rows] + [r.ref for r in rows]


@pytest.mark.parametrize("query, field", [
    ("severity=SEV9", "severity"), ("severity=SEV1&page=0", "page"), ("severity=SEV1&page=two", "page"),
    ("page=2", "page"), ("severity=SEV1&page=99999999999", "page"),
])
def test_bad_board_arguments_are_clear_errors(client, team, login, small_limits, query, field):
    login(team.exec)
    for url in (f"/dashboard?{query}", f"/dashboard/live?{query}"):
        response = client.get(url)
        assert response.status_code == 422, url
    answer = client.get(f"/live/board?{query}")
    assert answer.status_code == 422


def test_quiet_day_lists_everything(client, team, login, incident_factory, small_limits):
    refs = [incident_factory(severity="SEV3"), incident_factory(severity="SEV4")]
    login(team.exec)
    page = client.get("/dashboard").get_data(as_text=True)
    assert all(ref in page for ref in refs) and "List the" not in page


def _notes(app, ref, email, count):
    with app.app_context():
        incident, person = get_incident(ref), get_person(email)
        for index in range(count):
            add_note(incident=incident, actor=person, text=f"Note number {index}")
        db.session.commit()


@pytest.mark.parametrize("who", ["exec", "lead"])
def test_timeline_shows_the_newest_events_and_pages_back(app, client, team, login, incident_factory, small_limits, clock, who):
    ref = incident_factory()
    _notes(app, ref, team.lead, 7)
    login(getattr(team, who))
    page = client.get(f"/incidents/{ref}/timeline").get_data(as_text=True)
    events = page.split('id="events"')[1]
    assert "Note number 6" in events and "Note number 4" in events and "Note number 3" not in events
    assert events.index("Note number 4") < events.index("Note number 6")  # oldest first within the page
    assert "Showing 3 of" in events and "data-refresh-url" in page  # the newest page stays live
    older = re.search(r'href="([^"]*before=\d+[^"]*)"', events).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    second_events = second.split('id="events"')[1]
    assert "Note number 3" in second_events and "Note number 1" in second_events and "Note number 4" not in second_events
    assert "data-refresh-url" not in second  # an older page does not reload itself
    newer = re.search(r'href="([^"]*after=\d+[^"]*)"', second_events).group(1).replace("&amp;", "&")
    back = client.get(newer).get_data(as_text=True).split('id="events"')[1]
    assert "Note number 4" in back and "Note number 3" not in back
    # Keep going back until there is nothing older: the first event is the declaration.
    url, seen = older, 0
    while url and seen < 10:
        body = client.get(url).get_data(as_text=True).split('id="events"')[1]
        found = re.search(r'href="([^"]*before=\d+[^"]*)"', body)
        url, seen = (found.group(1).replace("&amp;", "&") if found else None), seen + 1
    assert "incident declared" in body


def test_timeline_pages_within_a_kind_and_live_fragment_appends(app, client, team, login, incident_factory, small_limits):
    ref = incident_factory()
    _notes(app, ref, team.lead, 4)
    login(team.exec)
    notes = client.get(f"/incidents/{ref}/timeline?kind=incident.note").get_data(as_text=True).split('id="events"')[1]
    assert "Showing 3 of 4 events of kind “incident.note”" in notes and "kind=incident.note" in notes
    _notes(app, ref, team.lead, 1)
    fragment = client.get(f"/incidents/{ref}/timeline/live").get_data(as_text=True)
    last = fragment.split('class="timeline"')[1].split("</ol>")[0].strip().splitlines()[-1]
    assert "Note number 0" in last  # the note just added is the newest, at the end


@pytest.mark.parametrize("query, field", [("before=abc", "before"), ("after=-1", "after"), ("before=999999", "before")])
def test_bad_timeline_cursor_is_a_clear_error(client, team, login, incident_factory, query, field):
    ref = incident_factory()
    login(team.exec)
    response = client.get(f"/incidents/{ref}/timeline?{query}")
    assert response.status_code == 422
    assert "events" in response.get_data(as_text=True)


def test_an_event_of_another_incident_is_not_a_cursor(app, client, team, login, incident_factory):
    from sqlalchemy import select

    from crisis.timeline.models import TimelineEvent

    mine, other = incident_factory(), incident_factory()
    with app.app_context():
        foreign = db.session.scalar(select(TimelineEvent.id).where(TimelineEvent.incident_id == get_incident(other).id))
    login(team.exec)
    assert client.get(f"/incidents/{mine}/timeline?before={foreign}").status_code == 422


def _wide_chart(page: str) -> str:
    return page[page.index('<svg class="tl-chart tl-wide"'):page.index('<svg class="tl-chart tl-narrow"')]


def test_the_chart_draws_one_mark_per_bucket_and_counts_its_events(app, client, team, login, incident_factory, clock):
    from crisis.timeline.service import record

    ref = incident_factory()
    with app.app_context():
        incident_id = get_incident(ref).id
        for burst in range(8):
            # Bursts ten minutes apart: five alerts, five drafts and two escalations at one moment.
            clock.advance(minutes=10)
            for index in range(5):
                record(incident_id=incident_id, kind="alert.received", summary=f"Alert {burst}.{index}")
                record(incident_id=incident_id, kind="statement.drafted", summary=f"Draft {burst}.{index}")
            for level in (1, 1 + burst % 2):
                record(incident_id=incident_id, kind="step.escalated", summary=f"Escalated {burst}",
                       data={"step": "gather-facts", "level": level})
        record(incident_id=incident_id, kind="statement.published", summary="Holding statement published")
        clock.advance(minutes=10)
        record(incident_id=incident_id, kind="alert.received", summary="Lone alert")
        db.session.commit()
    login(team.exec)
    chart = _wide_chart(client.get(f"/incidents/{ref}/timeline").get_data(as_text=True))
    # One dot per burst in each lane (and one for the declaration), whatever the events in it.
    assert chart.count('class="tl-mark tl-alert-received"') == 8 + 1
    assert chart.count('class="tl-mark tl-statement-drafted"') == 7
    assert chart.count('class="tl-escalation"') == 8
    # The tooltip counts a busy mark's events by kind and names a lone event.
    assert "5 events\n5 × alert received</title>" in chart
    assert "2 escalations, up to level 2</title>" in chart and "2 escalations, up to level 1</title>" in chart
    assert "Lone alert</title>" in chart
    # Drafts and the published statement share a bucket: the mark shows the publication.
    assert chart.count('class="tl-mark tl-statement-published"') == 1
    assert "6 events\n5 × statement drafted\n1 × statement published</title>" in chart


def test_the_chart_reads_a_bounded_number_of_buckets_however_many_events(app, incident_factory, clock):
    from crisis.executive.svg import BUCKETS, NARROW, WIDE
    from crisis.timeline.service import record

    ref = incident_factory(severity="SEV3")
    with app.app_context():
        incident = get_incident(ref)
        for minute in range(150):
            clock.advance(minutes=1)
            record(incident_id=incident.id, kind="alert.received", summary=f"Alert {minute}")
            record(incident_id=incident.id, kind="step.escalated", summary=f"Escalated {minute}",
                   data={"step": "gather-facts", "level": 1 + minute % 3})
        db.session.commit()
        view = timeline_page.load_timeline_page(ref=ref)
        alerts = [b for b in view.chart_buckets if b.kind == "alert.received"]
        escalations = [b for b in view.chart_buckets if b.kind == "step.escalated"]
    assert sum(b.count for b in alerts) == 150 and sum(b.count for b in escalations) == 150
    assert len(alerts) <= BUCKETS and len({b.index for b in alerts}) == len(alerts)
    assert {b.step for b in escalations} == {"gather-facts"} and max(b.level for b in escalations) == 3
    # Each bucket holds the events of its slice of the axis (to the second: the database counts whole ones).
    width = (view.chart_end - view.chart_start) / BUCKETS
    second = timedelta(seconds=1)
    for bucket in alerts:
        assert view.chart_start + bucket.index * width - second <= bucket.first <= bucket.last
        assert bucket.last < view.chart_start + (bucket.index + 1) * width + second
    assert WIDE.buckets == BUCKETS and BUCKETS % NARROW.buckets == 0


def test_severity_and_status_changes_are_drawn_one_by_one_with_their_new_value(client, team, login, desk, incident_factory, clock):
    ref = incident_factory(severity="SEV3")
    clock.advance(minutes=30)
    desk.change(ref, team.lead, severity="SEV1")
    clock.advance(minutes=30)
    desk.change(ref, team.lead, severity="SEV2")
    clock.advance(minutes=30)
    desk.change(ref, team.lead, severity="SEV1", status="responding")
    login(team.exec)
    chart = _wide_chart(client.get(f"/incidents/{ref}/timeline").get_data(as_text=True))
    assert chart.count('class="tl-mark tl-incident-severity-changed"') == 2
    assert chart.index(">SEV1</text>") < chart.index(">SEV2</text>")
    # Two changes at one moment: one diamond saying both new values.
    assert chart.count('class="tl-mark tl-incident-status-changed"') == 1
    assert ">SEV1 · responding</text>" in chart
