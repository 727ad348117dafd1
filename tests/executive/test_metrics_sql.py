"""/metrics counts and takes medians in the database: the figures equal those of each incident's
own figures (crisis.executive.service.figures_of, computed in Python from its steps and events)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crisis.executive.metrics import compute_metrics
from crisis.executive.service import figures_of, load_events
from crisis.extensions import db
from crisis.incidents.models import Incident


def _median(values):
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values)) if values else None


def _reference(now, start, end):
    """The period's figures per group, the slow way: every incident's steps and events in Python."""
    groups: dict[str, dict] = {}
    incidents = db.session.scalars(
        select(Incident).where(Incident.declared_at >= start, Incident.declared_at < end, Incident.is_drill.is_(False))
    )
    for incident in incidents:
        figures = figures_of(incident, list(incident.steps), load_events(incident.id), now)
        for label in ("All incidents", incident.severity, incident.playbook_version.key):
            group = groups.setdefault(label, {"incidents": 0, "due": 0, "on_time": 0, "ack": [], "response": [], "resolve": []})
            group["incidents"] += 1
            group["due"] += figures.steps_due
            group["on_time"] += figures.steps_on_time
            for name, span in (("ack", figures.time_to_ack), ("response", figures.time_to_response),
                               ("resolve", figures.time_to_resolve)):
                if span is not None:
                    group[name].append(span)
    return groups


def test_database_figures_match_each_incidents_own(app, team, desk, incident_factory, clock):
    refs = []
    for index, (playbook, severity) in enumerate(
        [("viral-complaint", "SEV2"), ("viral-complaint", "SEV2"), ("wrong-price", "SEV1"),
         ("viral-complaint", "SEV3"), ("wrong-price", "SEV2"), ("viral-complaint", "SEV2")]
    ):
        refs.append(incident_factory(playbook, severity=severity, title=f"Incident {index}"))
        clock.advance(seconds=37, microseconds=123457 * (index + 1))
    for index, ref in enumerate(refs[:5]):
        clock.advance(minutes=3 + index, microseconds=250001)
        desk.ack(ref, "gather-facts", team.lead)
        if index % 2 == 0:
            desk.complete(ref, "gather-facts", team.lead)
    clock.advance(minutes=7, microseconds=333333)
    desk.publish_holding_statement(refs[0])
    desk.publish_holding_statement(refs[3])
    clock.advance(minutes=25)
    desk.resolve(refs[0])
    clock.advance(hours=1, seconds=11)
    desk.resolve(refs[4])
    incident_factory(severity="SEV1", title="Drill", is_drill=True)
    clock.advance(minutes=40)

    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    with app.app_context():
        now = clock.current
        metrics = compute_metrics(start=start, end=end, now=now)
        expected = _reference(now, start, end)
        groups = [metrics.overall, *metrics.by_severity, *metrics.by_playbook]
        assert {g.label for g in groups if g.incidents} == set(expected)
        for group in groups:
            if not group.incidents:
                assert group.label not in expected
                continue
            want = expected[group.label]
            assert (group.incidents, group.steps_due, group.steps_on_time) == (want["incidents"], want["due"], want["on_time"]), group.label
            assert group.median_ack == _median(want["ack"]), group.label
            assert group.median_response == _median(want["response"]), group.label
            assert group.median_resolve == _median(want["resolve"]), group.label
        assert metrics.overall.incidents == 6 and metrics.drills_excluded == 1
        assert metrics.overall.median_ack is not None and metrics.overall.median_ack.microseconds  # not rounded away


def test_an_empty_period_has_no_figures(app, incident_factory):
    incident_factory()
    with app.app_context():
        metrics = compute_metrics(start=datetime(2020, 1, 1, tzinfo=UTC), end=datetime(2020, 2, 1, tzinfo=UTC))
        assert metrics.overall.incidents == 0 and metrics.overall.median_ack is None
        assert [g.incidents for g in metrics.by_severity] == [0, 0, 0, 0] and metrics.by_playbook == []


def test_metrics_is_a_fixed_number_of_statements(app, incident_factory, clock, sql_statements):
    for index in range(5):
        incident_factory(severity=("SEV1", "SEV2")[index % 2], title=f"Incident {index}")
    with app.app_context():
        sql_statements.clear()
        compute_metrics(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2027, 1, 1, tzinfo=UTC))
    selects = [s for s in sql_statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 3  # counts, medians, the other kind's count
