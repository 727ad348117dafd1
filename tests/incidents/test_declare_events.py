"""Declaring writes its timeline in one batch: the same events, in order, as one at a time."""

from __future__ import annotations

from crisis.extensions import db
from crisis.incidents import service
from crisis.people.service import get_person
from crisis.timeline import service as timeline


def test_declaring_writes_the_declared_event_then_each_activation_in_one_insert(
    app, team, synced, clock, sql_statements
):
    with app.app_context():
        incident = service.declare_incident(
            playbook_key="viral-complaint", title="Kettle video", severity="SEV2",
            declared_by=get_person(team.lead), actor_label="",
        )
        db.session.commit()
        ref = incident.ref
    batches = [s for s in sql_statements if s.lstrip().upper().startswith("INSERT INTO TIMELINE_EVENTS")]

    with app.app_context():
        incident = service.get_incident(ref)
        events = service.events_of(incident)
        active = [s for s in incident.steps if s.status == "active"]
        assert [e.kind for e in events] == ["incident.declared"] + ["step.activated"] * len(active)
        assert len(batches) == 1, batches  # one executemany for all of them
        assert [e.id for e in events] == sorted(e.id for e in events)
        assert {e.data["step"] for e in events[1:]} == {s.key for s in active}
        assert all(e.actor_name == team.lead and e.at == clock() for e in events)
        first = next(e for e in events[1:] if e.data["step"] == active[0].key)
        assert first.data == {"step": active[0].key, "due_at": active[0].due_at.isoformat(),
                              "owner": active[0].owner.email if active[0].owner else None}


def test_record_all_writes_what_record_would(app, incident_factory, team, clock):
    ref = incident_factory()
    with app.app_context():
        incident = service.get_incident(ref)
        lead = get_person(team.lead)
        timeline.record(incident_id=incident.id, kind="incident.note", summary="one", actor=lead, data={"n": 1})
        timeline.record_all(
            incident_id=incident.id, actor=lead, at=clock(),
            events=[("incident.note", "two", {"n": 2}), ("incident.note", "x" * 1200, {})],
        )
        timeline.record_all(incident_id=incident.id, events=[])  # nothing to write is fine
        db.session.commit()
    with app.app_context():
        notes = [e for e in service.events_of(service.get_incident(ref)) if e.kind == "incident.note"]
        assert [(e.summary[:3], e.data, e.actor_name, e.at) for e in notes] == [
            ("one", {"n": 1}, team.lead, clock()), ("two", {"n": 2}, team.lead, clock()), ("xxx", {}, team.lead, clock()),
        ]
        assert len(notes[2].summary) == 1000  # cut as record cuts it


def test_declaring_loads_the_incident_on_demand(app, team, synced):
    """declare_incident writes with Core INSERTs; its incident is a live row, loaded once when asked for."""
    with app.app_context():
        lead = get_person(team.lead)
        declared = service.declare_incident(
            playbook_key="viral-complaint", title="Kettle video", severity="SEV2", declared_by=lead,
            links=[("tiktok", "https://www.tiktok.com/@a/video/1"), ("x", "https://x.com/a/status/2")],
        )
        incident = declared.incident
        assert incident.id == declared.id and incident.ref == declared.ref
        assert declared.incident is incident  # loaded once
        assert db.session.get(type(incident), incident.id) is incident
        assert [(link.platform, link.url) for link in incident.links] == [
            ("tiktok", "https://www.tiktok.com/@a/video/1"), ("x", "https://x.com/a/status/2"),
        ]
        assert incident.playbook_version.key == "viral-complaint"
        # In the same transaction, it is updated like any loaded incident.
        service.change_incident(incident=incident, actor=lead, severity="SEV1")
        db.session.commit()
    with app.app_context():
        again = service.get_incident(declared.ref)
        assert again.severity == "SEV1" and len(again.links) == 2
        assert again.severity == "SEV1"
