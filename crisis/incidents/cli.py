"""CLI: `declare` and `incidents list|show|ack|complete|skip|block|unblock|assign|change|triage|note`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

from crisis.enums import SEVERITIES, Applicability
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.incidents import service
from crisis.incidents.editing import edit_incident
from crisis.incidents.forms import guess_platform
from crisis.incidents.schemas import IncidentOut
from crisis.people.service import get_person

STATUS_CHOICES = ["open", "closed", "all", *service.STATUSES]


def run_service_call(action: Callable[[], Any]) -> Any:
    """Run one service call and commit, or roll back and exit non-zero with its message."""
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        field = f" ({error.field})" if error.field else ""
        raise click.ClickException(f"{error.message}{field}") from None
    db.session.commit()
    return result


def _actor(email: str):
    try:
        return get_person(email, field="as")
    except DomainError as error:
        raise click.ClickException(error.message) from None


def _parse_link(spec: str) -> tuple[str, str]:
    platform, sep, url = spec.partition("=")
    if sep and not platform.lower().startswith(("http:", "https:")) and "/" not in platform:
        return platform.strip(), url.strip()
    return guess_platform(spec.strip()), spec.strip()


@click.command("declare")
@click.option("--playbook", "playbook_key", required=True, help="Playbook key, e.g. viral-complaint.")
@click.option("--title", required=True, help="What is happening, in a line.")
@click.option("--severity", type=click.Choice(SEVERITIES, case_sensitive=False),
              help="Default: the playbook's default severity.")
@click.option("--summary", default="", help="More detail (Markdown).")
@click.option("--triage-owner", help="Email of the triage owner (default: the playbook's triage roster).")
@click.option("--link", "links", multiple=True, help="platform=URL (or just the URL); repeatable.")
@click.option("--answer", "answers", multiple=True, help="Triage answer question=choice; repeatable.")
@click.option("--drill", is_flag=True, help="Mark the incident as a drill.")
@click.option("--as", "as_email", help="Email of the person declaring (default: the CLI, no person).")
@with_appcontext
def declare_command(playbook_key, title, severity, summary, triage_owner, links, answers, drill, as_email) -> None:
    """Declare an incident; prints its reference on the last line."""
    declarer = _actor(as_email) if as_email else None
    parsed_answers = {}
    for spec in answers:
        key, sep, value = spec.partition("=")
        if not sep:
            raise click.BadParameter(f"{spec!r}: write question=choice", param_hint="--answer")
        parsed_answers[key.strip()] = value.strip()
    declared = run_service_call(lambda: service.declare_incident(
        playbook_key=playbook_key, title=title, severity=severity.upper() if severity else None, summary=summary,
        declared_by=declarer, triage_owner_email=triage_owner, links=[_parse_link(s) for s in links],
        is_drill=drill, actor_label="" if declarer else "cli", triage_answers=parsed_answers,
    ))
    for warning in declared.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(declared.ref)


@click.group("incidents", help="List, show and act on incidents.")
def incidents_group() -> None:
    pass


@incidents_group.command("list")
@click.option("--status", type=click.Choice(STATUS_CHOICES), default="open", show_default=True)
@click.option("--severity", type=click.Choice(SEVERITIES, case_sensitive=False))
@with_appcontext
def list_command(status, severity) -> None:
    """List incidents, newest first."""
    found = run_service_call(lambda: service.list_incidents(status=status, severity=severity))
    if not found:
        click.echo(f"no {status} incidents")
        return
    for incident in found:
        owner = incident.triage_owner.email if incident.triage_owner else "-"
        click.echo(f"{incident.ref}  {incident.severity}  {incident.status:<10}  {owner:<28}  {incident.title}")


@incidents_group.command("show")
@click.argument("ref")
@with_appcontext
def show_command(ref) -> None:
    """Show an incident and its steps."""
    incident = run_service_call(lambda: service.get_incident(ref))
    data = IncidentOut.of(incident).model_dump()
    click.echo(f"{data['ref']}  {data['severity']}  {data['status']}  {data['title']}")
    click.echo(f"playbook {data['playbook']['key']} v{data['playbook']['version']}; "
               f"triage owner {data['triage_owner'] or '-'}; declared {data['declared_at']}")
    for link in data["links"]:
        click.echo(f"  link {link['platform']}: {link['url']}")
    for step in data["steps"]:
        if step["applicability"] == Applicability.EXCLUDED:
            continue
        due = f"due {step['due_at']}" if step["due_at"] else ""
        level = f" L{step['escalation_level']}" if step["escalation_level"] else ""
        click.echo(f"  {step['status']:<8} {step['key']:<28} {step['owner'] or '-':<28} {due}{level}")


def _step_command(name: str, help_text: str, call: Callable[..., Any], extra: list[click.Option]) -> click.Command:
    def command(ref, step, as_email, **kwargs) -> None:
        actor = _actor(as_email)
        result = run_service_call(lambda: call(incident=service.get_incident(ref), step_key=step, actor=actor, **kwargs))
        owner = f" (owner {result.owner.email})" if result.owner is not None else ""
        click.echo(f"{ref} {result.key}: {result.status}{owner}")

    params = [
        click.Argument(["ref"]),
        click.Argument(["step"]),
        click.Option(["--as", "as_email"], required=True, help="Email of the person acting."),
        *extra,
    ]
    return click.Command(name, callback=with_appcontext(command), params=params, help=help_text)


incidents_group.add_command(_step_command("ack", "Acknowledge a step.", service.acknowledge_step, []))
incidents_group.add_command(_step_command(
    "complete", "Complete a step (a second complete is refused).",
    lambda **kw: service.complete_step(via="cli", **kw), [click.Option(["--note"], default="")]))
incidents_group.add_command(_step_command(
    "skip", "Skip a step (triage owner or leads).", service.skip_step, [click.Option(["--reason"], required=True)]))
incidents_group.add_command(_step_command(
    "block", "Mark a step blocked.", service.block_step, [click.Option(["--reason"], required=True)]))
incidents_group.add_command(_step_command(
    "unblock", "Unblock a step.", service.unblock_step, [click.Option(["--reason"], default="")]))
incidents_group.add_command(_step_command(
    "assign", "Hand a step to someone.", service.assign_step,
    [click.Option(["--to", "owner_email"], required=True, help="Email of the new owner.")]))


@incidents_group.command("change")
@click.argument("ref")
@click.option("--as", "as_email", required=True, help="Email of the person acting.")
@click.option("--severity", type=click.Choice(SEVERITIES, case_sensitive=False))
@click.option("--status", type=click.Choice(service.STATUSES))
@click.option("--triage-owner", help="Email of the new triage owner.")
@click.option("--force-reason", help="Resolve although required steps are open, saying why.")
@with_appcontext
def change_command(ref, as_email, severity, status, triage_owner, force_reason) -> None:
    """Change severity, status or triage owner."""
    actor = _actor(as_email)
    incident = run_service_call(lambda: service.change_incident(
        incident=service.get_incident(ref), actor=actor, severity=severity.upper() if severity else None,
        status=status, triage_owner_email=triage_owner, force_reason=force_reason,
    ))
    owner = incident.triage_owner.email if incident.triage_owner else "-"
    click.echo(f"{incident.ref}  {incident.severity}  {incident.status}  triage owner {owner}")


@incidents_group.command("edit")
@click.argument("ref")
@click.option("--as", "as_email", required=True, help="Email of the person acting.")
@click.option("--title", help="The corrected title.")
@click.option("--summary", help="The corrected summary.")
@click.option("--link", "links", multiple=True, help="platform=URL (or just the URL); repeatable; replaces all links.")
@click.option("--no-links", is_flag=True, help="Remove every source link.")
@with_appcontext
def edit_command(ref, as_email, title, summary, links, no_links) -> None:
    """Correct an incident's title, summary or source links."""
    actor = _actor(as_email)
    new_links = [] if no_links else ([_parse_link(spec) for spec in links] if links else None)
    changed = run_service_call(lambda: edit_incident(
        incident=service.get_incident(ref), actor=actor, title=title, summary=summary, links=new_links,
    ))
    click.echo(f"{ref.upper()}: changed {', '.join(changed)}" if changed else f"{ref.upper()}: nothing changed")


@incidents_group.command("triage")
@click.argument("ref")
@click.argument("answers", nargs=-1, required=True)
@click.option("--as", "as_email", required=True, help="Email of the person acting.")
@with_appcontext
def triage_command(ref, answers, as_email) -> None:
    """Record triage answers given as question=choice."""
    actor = _actor(as_email)
    parsed = {}
    for spec in answers:
        key, sep, value = spec.partition("=")
        if not sep:
            raise click.ClickException(f"{spec!r}: write question=choice")
        parsed[key.strip()] = value.strip()
    incident = run_service_call(lambda: service.record_triage_answers(
        incident=service.get_incident(ref), actor=actor, answers=parsed))
    click.echo(f"{incident.ref} answers: " + ", ".join(f"{k}={v}" for k, v in incident.triage_answers.items()))


@incidents_group.command("note")
@click.argument("ref")
@click.argument("text")
@click.option("--as", "as_email", required=True, help="Email of the person acting.")
@with_appcontext
def note_command(ref, text, as_email) -> None:
    """Add a note to the timeline."""
    actor = _actor(as_email)
    run_service_call(lambda: service.add_note(incident=service.get_incident(ref), actor=actor, text=text))
    click.echo(f"{ref}: note added")


commands = [declare_command, incidents_group]
