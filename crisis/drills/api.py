"""API: start and end a drill, and any incident's score against its plan's deadlines."""

from __future__ import annotations

from crisis.api import api_route, current_actor, parse_body
from crisis.drills import service
from crisis.drills.scoring import score_dict, score_incident
from crisis.drills.shapes import DrillRunOut, DrillStartIn, ScoreOut, run_dict
from crisis.extensions import db
from crisis.incidents.service import get_incident


@api_route("/drills", method="POST", summary="Start a drill from a scenario (drills/*.yaml)", permission="declare",
           body=DrillStartIn, response=DrillRunOut, status=201, tag="drills")
def api_start_drill():
    body = parse_body(DrillStartIn)
    run = service.start_drill(scenario_key=body.scenario, actor=current_actor())
    db.session.commit()
    return run_dict(run), 201


@api_route("/incidents/<ref>/drill", summary="A drill run and its injects", permission="view",
           response=DrillRunOut, tag="drills")
def api_drill(ref: str):
    return run_dict(service.run_of(get_incident(ref)))


@api_route("/incidents/<ref>/drill/end", method="POST", summary="End a drill now (early, if injects remain)",
           permission="respond", response=DrillRunOut, tag="drills")
def api_end_drill(ref: str):
    run = service.end_drill(incident=get_incident(ref), actor=current_actor())
    db.session.commit()
    return run_dict(run)


@api_route("/incidents/<ref>/score", summary="An incident's score against its playbook's deadlines",
           permission="view", response=ScoreOut, tag="drills")
def api_score(ref: str):
    return score_dict(score_incident(incident=get_incident(ref)))
