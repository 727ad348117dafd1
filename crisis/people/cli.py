"""CLI: `users create` and `tokens create|revoke`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from crisis.audit import audit
from crisis.errors import DomainError
from crisis.extensions import db
from crisis.people.service import create_person, create_token, get_person, revoke_token


def fail(error: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(error.message)


@click.group("users", help="Manage people.")
def users() -> None:
    pass


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--password", help="Password for the web UI (none: API tokens only).")
@click.option("--permission", "permissions", multiple=True, help="admin, declare, respond, approve, publish, view.")
@click.option("--role", "roles", multiple=True, help="Response role, e.g. legal or legal:backup.")
@click.option("--timezone", help="IANA time zone for times this person sees.")
@with_appcontext
def create_user(email, name, password, permissions, roles, timezone) -> None:
    """Create a person."""
    try:
        person = create_person(
            email=email, name=name, password=password, permissions=permissions, roles=roles, timezone=timezone
        )
    except DomainError as error:
        fail(error)
    audit(actor=None, actor_label="cli", action="person.created", target=person.email,
          data={"permissions": sorted(person.permission_names), "roles": list(roles)})
    db.session.commit()
    click.echo(f"created {person.email} (permissions: {', '.join(sorted(person.permission_names)) or 'none'})")


@click.group("tokens", help="Manage API tokens.")
def tokens() -> None:
    pass


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@click.option("--scope", type=click.Choice(["api", "alerts"]), default="api", show_default=True)
@with_appcontext
def create_api_token(email, name, scope) -> None:
    """Create an API token; the token is printed alone on the last line, once."""
    try:
        token, secret = create_token(person=get_person(email), name=name, scope=scope)
    except DomainError as error:
        fail(error)
    audit(actor=None, actor_label="cli", action="token.created", target=email,
          data={"token": token.id, "name": name, "scope": scope})
    db.session.commit()
    click.echo(f"token {token.id} for {email} (scope {scope}); store it now, it is not shown again:")
    click.echo(secret)


@tokens.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_api_token(token_id) -> None:
    """Revoke an API token by id."""
    try:
        token = revoke_token(token_id=token_id)
    except DomainError as error:
        fail(error)
    audit(actor=None, actor_label="cli", action="token.revoked", target=token.person.email, data={"token": token_id})
    db.session.commit()
    click.echo(f"revoked token {token_id}")


commands = [users, tokens]
