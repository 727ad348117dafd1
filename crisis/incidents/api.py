"""JSON API for incidents: declare, list, read, change, step actions, triage, notes, timeline."""

from __future__ import annotations

from datetime import datetime

from flask import request

from crisis.api import api_route, current_actor, current_actor_ref, parse_body
from crisis.api.paging import QUERY_DOCS, page_from_request
from crisis.api.routing import model_response
from crisis.extensions import db
from crisis.incidents import service
from crisis.incidents.editing import edit_incident
from crisis.incidents.schemas import (
    AssignIn,
    CompleteIn,
    DeclareIn,
    EmptyIn,
    EventOut,
    IncidentChangeIn,
    IncidentListOut,
    IncidentOut,
    IncidentSummaryOut,
    NoteIn,
    OptionalReasonIn,
    ReasonIn,
    StepOut,
    TimelineOut,
    TriageIn,
)

TAG = "incidents"


@api_route("/incidents", method="POST", summary="Declare an incident", permission="declare",
           body=DeclareIn, response=IncidentOut, status=201, tag=TAG)
def api_declare_incident():
    body = parse_body(DeclareIn)
    declared = service.declare_incident(
        playbook_key=body.playbook,
        title=body.title,
        severity=body.severity,
        summary=body.summary,
        declared_by=current_actor_ref(),  # declaring records who, and needs nothing else of them
        triage_owner_email=body.triage_owner,
        links=[(link.platform, link.url) for link in body.links],
        triage_answers=body.triage_answers,
        is_drill=body.is_drill,
    )
    answer = IncidentOut.of(declared.incident, warnings=declared.warnings)
    db.session.commit()
    return answer, 201, {"Location": f"/api/v1/incidents/{declared.ref}"}


@api_route("/incidents", summary="List incidents", permission="view", response=IncidentListOut, tag=TAG,
           query={"status": "open (default), closed, all, or one status",
                  "severity": "SEV1..SEV4", "mine": "1: only incidents where I own a step or triage", **QUERY_DOCS})
def api_list_incidents():
    mine = request.args.get("mine", "") in ("1", "true", "yes")
    page = page_from_request("incidents", datetime, int)
    incidents, next_cursor = page.cut(service.list_incidents(
        status=request.args.get("status", "open").strip().lower() or "open",
        severity=request.args.get("severity") or None,
        owner=current_actor() if mine else None,
        limit=page.fetch, after=page.after,
    ), key=lambda incident: (incident.declared_at, incident.id))
    return IncidentListOut(incidents=[IncidentSummaryOut.of(i) for i in incidents], next_cursor=next_cursor)


@api_route("/incidents/<ref>", summary="One incident with its steps", permission="view",
           response=IncidentOut, tag=TAG)
def api_get_incident(ref: str):
    # The ETag is a digest of the answer: a poller sending If-None-Match gets a 304 without a body.
    response = model_response(IncidentOut.of(service.get_incident(ref)))
    response.add_etag(weak=True)
    return response.make_conditional(request)


@api_route("/incidents/<ref>", method="PATCH", summary="Change severity, status or triage owner; correct title, summary, links",
           permission="respond", body=IncidentChangeIn, response=IncidentOut, tag=TAG)
def api_change_incident(ref: str):
    body = parse_body(IncidentChangeIn)
    incident = service.get_incident(ref)
    edits = {"title": body.title, "summary": body.summary,
             "links": None if body.links is None else [(link.platform, link.url) for link in body.links]}
    editing = any(value is not None for value in edits.values())
    if editing:
        edit_incident(incident=incident, actor=current_actor(), **edits)
    lifecycle = (body.severity, body.status, body.triage_owner, body.force_reason)
    if not editing or any(value is not None for value in lifecycle):
        incident = service.change_incident(
            incident=incident,
            actor=current_actor(),
            severity=body.severity,
            status=body.status,
            triage_owner_email=body.triage_owner,
            force_reason=body.force_reason,
        )
    db.session.commit()
    return IncidentOut.of(incident)


@api_route("/incidents/<ref>/triage", method="POST", summary="Record triage answers",
           permission="respond", body=TriageIn, response=IncidentOut, tag=TAG)
def api_answer_triage(ref: str):
    body = parse_body(TriageIn)
    incident = service.record_triage_answers(
        incident=service.get_incident(ref), actor=current_actor(), answers=body.answers
    )
    db.session.commit()
    return IncidentOut.of(incident)


@api_route("/incidents/<ref>/notes", method="POST", summary="Add a note to the timeline",
           permission="respond", body=NoteIn, response=EventOut, status=201, tag=TAG)
def api_add_note(ref: str):
    body = parse_body(NoteIn)
    event = service.add_note(incident=service.find_incident(ref), actor=current_actor(), text=body.text)
    # The answer is taken before the commit, which would expire the event and read it back.
    answer = EventOut.of(event)
    db.session.commit()
    return answer, 201


@api_route("/incidents/<ref>/timeline", summary="The incident's timeline, oldest first",
           permission="view", response=TimelineOut, tag=TAG, query=QUERY_DOCS)
def api_incident_timeline(ref: str):
    incident = service.get_incident(ref)
    page = page_from_request("timeline", datetime, int)
    events, next_cursor = page.cut(service.events_of(incident, limit=page.fetch, after=page.after),
                                   key=lambda event: (event.at, event.id))
    return TimelineOut(events=[EventOut.of(e) for e in events], next_cursor=next_cursor)


# --- step actions: each answers the step as it now stands ------------------------------------

def _step_response(step):
    db.session.commit()
    return StepOut.of(step)


@api_route("/incidents/<ref>/steps/<key>/acknowledge", method="POST", summary="Acknowledge a step",
           permission="respond", body=EmptyIn, response=StepOut, tag=TAG)
def api_acknowledge_step(ref: str, key: str):
    parse_body(EmptyIn)
    return _step_response(
        service.acknowledge_step(incident=service.get_incident(ref), step_key=key, actor=current_actor())
    )


@api_route("/incidents/<ref>/steps/<key>/complete", method="POST",
           summary="Complete a step (a repeated complete is 409)", permission="respond",
           body=CompleteIn, response=StepOut, tag=TAG)
def api_complete_step(ref: str, key: str):
    body = parse_body(CompleteIn)
    return _step_response(
        service.complete_step(
            incident=service.get_incident(ref), step_key=key, actor=current_actor(), note=body.note, via="api"
        )
    )


@api_route("/incidents/<ref>/steps/<key>/skip", method="POST", summary="Skip a step with a reason",
           permission="respond", body=ReasonIn, response=StepOut, tag=TAG)
def api_skip_step(ref: str, key: str):
    body = parse_body(ReasonIn)
    return _step_response(
        service.skip_step(incident=service.get_incident(ref), step_key=key, actor=current_actor(), reason=body.reason)
    )


@api_route("/incidents/<ref>/steps/<key>/assign", method="POST", summary="Hand a step to someone",
           permission="respond", body=AssignIn, response=StepOut, tag=TAG)
def api_assign_step(ref: str, key: str):
    body = parse_body(AssignIn)
    return _step_response(
        service.assign_step(
            incident=service.get_incident(ref), step_key=key, actor=current_actor(), owner_email=body.owner
        )
    )


@api_route("/incidents/<ref>/steps/<key>/block", method="POST", summary="Mark a step blocked",
           permission="respond", body=ReasonIn, response=StepOut, tag=TAG)
def api_block_step(ref: str, key: str):
    body = parse_body(ReasonIn)
    return _step_response(
        service.block_step(incident=service.get_incident(ref), step_key=key, actor=current_actor(), reason=body.reason)
    )


@api_route("/incidents/<ref>/steps/<key>/unblock", method="POST", summary="Unblock a step",
           permission="respond", body=OptionalReasonIn, response=StepOut, tag=TAG)
def api_unblock_step(ref: str, key: str):
    body = parse_body(OptionalReasonIn)
    return _step_response(
        service.unblock_step(incident=service.get_incident(ref), step_key=key, actor=current_actor(), reason=body.reason)
    )

