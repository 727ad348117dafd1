"""CLI: `policy publish [FILE]` and `policy status`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from crisis.config import PROJECT_ROOT
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.policy import service

DEFAULT_FILE = PROJECT_ROOT / "policy" / "social-media-policy.md"


@click.group("policy", help="The social media policy: publish a version, see who has acknowledged it.")
def policy() -> None:
    pass


@policy.command("publish")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def publish(path: Path | None) -> None:
    """Publish the Markdown file as a new version (default: policy/social-media-policy.md)."""
    try:
        version = service.publish_policy(body=(path or DEFAULT_FILE).read_text(encoding="utf-8"), actor=None, actor_label="cli")
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"published version {version.number}")


@policy.command("status")
@with_appcontext
def status() -> None:
    """Print the version in force and who has not acknowledged it."""
    current = service.current_policy()
    if current is None:
        raise click.ClickException("no policy published yet; run: flask --app crisis policy publish")
    missing = service.not_acknowledged(version=current)
    click.echo(f"version {current.number}: {len(missing)} not acknowledged")
    for person in missing:
        click.echo(f"{person.email}\t{person.name}")


commands = [policy]
