"""Response metrics over a period, by severity and by playbook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crisis.executive.metrics import compute_metrics


def test_metrics_by_severity_and_playbook(app, client, team, login, desk, incident_factory, clock):
    a = incident_factory(severity="SEV2")
    clock.advance(minutes=4)
    desk.ack(a, "gather-facts", team.lead)
    desk.complete(a, "gather-facts", team.lead)  # done on time (due at 15 min)
    clock.advance(minutes=6)
    desk.publish_holding_statement(a)  # at 10 min
    b = incident_factory(severity="SEV2", title="Second")
    clock.advance(minutes=20)  # b's gather-facts (due 15 min) now late, unfinished
    desk.ack(b, "gather-facts", team.lead)  # acknowledged 20 min after b was declared
    c = incident_factory("wrong-price", severity="SEV1", title="Price")
    drill = incident_factory(severity="SEV1", title="Drill", is_drill=True)
    clock.advance(hours=1)
    desk.resolve(a)

    with app.app_context():
        m = compute_metrics(start=datetime(2026, 11, 21, tzinfo=UTC), end=datetime(2026, 11, 22, tzinfo=UTC))
    assert m.overall.incidents == 3 and m.drills_excluded == 1
    sev2 = next(g for g in m.by_severity if g.label == "SEV2")
    assert sev2.incidents == 2
    assert sev2.median_ack == timedelta(minutes=12)  # median of 4 and 20
    assert sev2.median_response == timedelta(minutes=10)
    assert sev2.median_resolve == timedelta(minutes=90)
    assert sev2.steps_on_time >= 2  # gather-facts of a, the holding statement of a
    assert sev2.steps_due > sev2.steps_on_time  # b's late gather-facts counts against
    assert {g.label for g in m.by_playbook} == {"viral-complaint", "wrong-price"}
    assert next(g for g in m.by_severity if g.label == "SEV1").incidents == 1
    assert drill and c

    login(team.exec)
    page = client.get("/metrics?from=2026-11-21&to=2026-11-21").get_data(as_text=True)
    assert "Median time to acknowledge, by severity" in page and 'class="bar-chart' in page
    assert "viral-complaint" in page and "wrong-price" in page
    assert "1 drill left out" in page
    assert "12 min" in page


def test_metrics_period_excludes_other_days_and_explains_empty(client, team, login, incident_factory):
    incident_factory()
    login(team.exec)
    page = client.get("/metrics?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    assert "No incidents in this period" in page
    default = client.get("/metrics").get_data(as_text=True)  # the last 30 days, today included
    assert "No incidents in this period" not in default


def test_metrics_bad_dates_are_clear_errors(client, team, login):
    login(team.exec)
    response = client.get("/metrics?from=yesterday")
    assert response.status_code == 422 and "YYYY-MM-DD" in response.get_data(as_text=True)
    response = client.get("/metrics?from=2026-11-21&to=2026-11-01")
    assert response.status_code == 422 and "must not be after" in response.get_data(as_text=True)
    assert client.get("/metrics?from=2000-01-01&to=2026-11-01").status_code == 422


def test_drills_are_measured_apart_for_training(app, client, team, login, desk, incident_factory, clock):
    incident_factory(severity="SEV2", title="Real one")
    drill = incident_factory(severity="SEV1", title="Drill: account takeover", is_drill=True)
    clock.advance(minutes=7)
    desk.ack(drill, "gather-facts", team.lead)
    with app.app_context():
        only = compute_metrics(start=datetime(2026, 11, 21, tzinfo=UTC), end=datetime(2026, 11, 22, tzinfo=UTC), drills=True)
    assert only.overall.incidents == 1 and only.drills_excluded == 1
    assert only.overall.median_ack == timedelta(minutes=7)
    login(team.exec)
    page = client.get("/metrics?from=2026-11-21&to=2026-11-21").get_data(as_text=True)
    assert "show drills" in page and "drills=only" in page
    drills = client.get("/metrics?from=2026-11-21&to=2026-11-21&drills=only").get_data(as_text=True)
    assert "Response metrics: drills" in drills and "1 real incident left out" in drills and "7 min" in drills


def test_period_days_are_the_viewers_days(app, client, team, login, incident_factory, clock):
    from crisis.extensions import db
    from crisis.people.service import get_person

    clock.set(datetime(2026, 11, 21, 3, 0, tzinfo=UTC))  # 22:00 on the 20th in New York
    incident_factory(title="Late-evening complaint")
    with app.app_context():
        get_person(team.exec).timezone = "America/New_York"
        db.session.commit()
    login(team.exec)
    on_the_20th = client.get("/metrics?from=2026-11-20&to=2026-11-20").get_data(as_text=True)
    on_the_21st = client.get("/metrics?from=2026-11-21&to=2026-11-21").get_data(as_text=True)
    assert "No incidents in this period" not in on_the_20th
    assert "No incidents in this period" in on_the_21st
