"""CLI: `training record|list|validate|overdue`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from crisis.errors import DomainError
from crisis.incidents.cli import run_service_call
from crisis.people.service import get_person
from crisis.readiness.commands import report_checked_files
from crisis.training import service
from crisis.training.courses import load_courses


@click.group("training", help="Training courses (training/*.yaml) and who completed them.")
def training() -> None:
    pass


@training.command("record")
@click.argument("email")
@click.argument("course")
@click.option("--on", "on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Completion date, YYYY-MM-DD.")
@click.option("--evidence", default="", help="How it was completed (workshop, certificate, ...).")
@click.option("--by", "by", default="", help="Email of who records it (default: the CLI).")
@with_appcontext
def record(email: str, course: str, on: datetime, evidence: str, by: str) -> None:
    """Record that EMAIL completed COURSE on a day."""
    completion = run_service_call(lambda: service.record_completion(
        person=get_person(email), course_key=course, completed_on=on.date(), source="cli",
        recorded_by=get_person(by, field="by") if by else None, recorded_by_label="cli", evidence=evidence,
    ))
    click.echo(f"{email} completed {course} on {on.date().isoformat()}; valid until {completion.expires_at.date().isoformat()}")


@training.command("list")
@click.argument("email")
@with_appcontext
def list_(email: str) -> None:
    """Show where a person stands on every course they need or took."""
    try:
        person = get_person(email)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for status in service.training_of(person=person):
        until = status.latest.expires_at.date().isoformat() if status.latest else "-"
        click.echo(f"{status.course.key}\t{status.state}\t{until}\t{'required' if status.required else 'optional'}")


@training.command("validate")
@click.argument("path", required=False)
@with_appcontext
def validate(path: str | None) -> None:
    """Check course files; print every problem with file, line and field; exit 1 on any."""
    report_checked_files(*load_courses(path or current_app.config["TRAINING_DIR"]))


@training.command("overdue")
@with_appcontext
def overdue() -> None:
    """List people missing or expired on a course their roles need."""
    for person, status in service.overdue():
        click.echo(f"{person.email}\t{status.course.key}\t{status.state}")


commands = [training]
