"""CLI: `drills validate|list|start|end|score|sweep`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from crisis.drills import service
from crisis.drills.scenarios import load_scenarios, scenarios
from crisis.drills.scoring import score_dict, score_incident
from crisis.incidents.cli import run_service_call
from crisis.incidents.service import get_incident
from crisis.people.service import get_person
from crisis.readiness.commands import report_checked_files
from crisis.readiness.sweep import run_readiness_sweep


@click.group("drills", help="Drill scenarios (drills/*.yaml): run one, end it, score it.")
def drills() -> None:
    pass


@drills.command("validate")
@click.argument("path", required=False)
@with_appcontext
def validate(path: str | None) -> None:
    """Check scenario files; print every problem with file, line and field; exit 1 on any."""
    report_checked_files(*load_scenarios(path or current_app.config["DRILLS_DIR"], playbooks_dir=current_app.config["PLAYBOOKS_DIR"]))


@drills.command("list")
@with_appcontext
def list_() -> None:
    """List the scenarios and their last run."""
    for scenario in scenarios().values():
        runs = service.list_runs(scenario_key=scenario.key)
        last = runs[0].incident.ref if runs else "never run"
        click.echo(f"{scenario.key}\t{scenario.playbook}\t{scenario.severity}\t{last}")


@drills.command("start")
@click.argument("scenario")
@click.option("--as", "as_email", required=True, help="Email of who runs the drill (needs declare).")
@with_appcontext
def start(scenario: str, as_email: str) -> None:
    """Start a drill; prints the drill incident's reference on the last line."""
    run = run_service_call(lambda: service.start_drill(scenario_key=scenario, actor=get_person(as_email, field="as")))
    for inject in run.injects:
        click.echo(f"inject {inject.key} at {inject.due_at.isoformat()}: {inject.title}")
    click.echo(run.incident.ref)


@drills.command("end")
@click.argument("ref")
@click.option("--as", "as_email", required=True, help="Email of who ends the drill.")
@with_appcontext
def end(ref: str, as_email: str) -> None:
    """End a drill now."""
    run = run_service_call(lambda: service.end_drill(incident=get_incident(ref), actor=get_person(as_email, field="as")))
    click.echo(f"{run.incident.ref} ended" + (" early" if run.ended_early else ""))


@drills.command("score")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@with_appcontext
def score(ref: str, as_json: bool) -> None:
    """Print an incident's score against its playbook's deadlines."""
    result = run_service_call(lambda: score_dict(score_incident(incident=get_incident(ref))))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for step in result["steps"]:
        click.echo(f"{step['key']}\t{'on time' if step['on_time'] else 'late'}")
    click.echo(f"on time: {round(result['on_time_share'] * 100)}%")


@drills.command("sweep")
@with_appcontext
def sweep() -> None:
    """Post the injects that fell due and send training reminders, once, now."""
    result = run_readiness_sweep()
    click.echo(f"injects posted: {result.injects}; reminders sent: {result.reminders}")


commands = [drills]
