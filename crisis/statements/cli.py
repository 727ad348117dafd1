"""CLI: `spokespeople authorise|trained|revoke|list` (each change on the audit trail as "cli")."""

from __future__ import annotations

from datetime import UTC, datetime, time

import click
from flask.cli import with_appcontext

from crisis.admin import service as admin
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.people.service import get_person
from crisis.statements.service import list_spokespeople

CLI_ACTOR = "cli"


def _fail(error: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(error.message)


def _day(value: datetime | None) -> datetime | None:
    # A training date has no time of day: noon UTC keeps it on the same date everywhere.
    return datetime.combine(value.date(), time(12), tzinfo=UTC) if value else None


@click.group("spokespeople", help="Who may publish statements in the company's name.")
def spokespeople() -> None:
    pass


@spokespeople.command("authorise")
@click.argument("email")
@click.option("--platform", required=True, help="x, instagram, ... or '*' for every platform.")
@click.option("--trained", type=click.DateTime(formats=["%Y-%m-%d"]), help="Training date; untrained people cannot publish.")
@with_appcontext
def authorise(email: str, platform: str, trained: datetime | None) -> None:
    """Authorise a person to publish on a platform."""
    try:
        authorisation = admin.authorise_spokesperson(
            actor=None, actor_label=CLI_ACTOR, person=get_person(email), platform=platform, trained_at=_day(trained)
        )
    except DomainError as error:
        _fail(error)
    db.session.commit()
    state = "may publish" if authorisation.is_live else "cannot publish until trained"
    click.echo(f"authorisation {authorisation.id}: {email} on {authorisation.platform} ({state})")


@spokespeople.command("trained")
@click.argument("authorisation_id", type=int)
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@with_appcontext
def trained(authorisation_id: int, day: datetime) -> None:
    """Record the training date of an authorisation."""
    try:
        authorisation = admin.record_spokesperson_training(
            actor=None, actor_label=CLI_ACTOR, authorisation_id=authorisation_id, trained_at=_day(day)
        )
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{authorisation.person.email} trained; may publish on {authorisation.platform}")


@spokespeople.command("revoke")
@click.argument("authorisation_id", type=int)
@with_appcontext
def revoke(authorisation_id: int) -> None:
    """Withdraw an authorisation."""
    try:
        authorisation = admin.revoke_spokesperson(actor=None, actor_label=CLI_ACTOR, authorisation_id=authorisation_id)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"revoked: {authorisation.person.email} on {authorisation.platform}")


@spokespeople.command("list")
@with_appcontext
def list_() -> None:
    """List live authorisations."""
    rows = list_spokespeople()
    if not rows:
        click.echo("nobody may publish; authorise with: flask --app crisis spokespeople authorise EMAIL --platform x --trained YYYY-MM-DD")
        return
    for a in rows:
        trained_on = a.trained_at.date().isoformat() if a.trained_at else "not trained"
        click.echo(f"{a.id}\t{a.person.email}\t{a.platform}\t{trained_on}")


commands = [spokespeople]
