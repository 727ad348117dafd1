"""CLI: `webhooks add|list|disable|enable`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from crisis.errors import DomainError
from crisis.extensions import db
from crisis.notifications.webhooks import FORMATS, add_webhook, list_webhooks, set_webhook_active


def fail(error: DomainError) -> None:
    db.session.rollback()
    field = f" ({error.field})" if error.field else ""
    raise click.ClickException(f"{error.message}{field}")


@click.group("webhooks", help="Manage outbound webhooks (Slack or Microsoft Teams format).")
def webhooks() -> None:
    pass


@webhooks.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--format", "format_", type=click.Choice(FORMATS), default="slack", show_default=True)
@click.option("--secret", default="", help="Shared secret for the X-Crisis-Signature HMAC header.")
@click.option("--drills", is_flag=True, help="Also send drill traffic here (off: drills never reach this webhook).")
@with_appcontext
def add(name: str, url: str, format_: str, secret: str, drills: bool) -> None:
    """Add a webhook that receives every notification sent on the webhook channel."""
    try:
        webhook = add_webhook(
            name=name, url=url, format=format_, secret=secret, drills=drills,
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"], actor_label="cli",
        )
    except DomainError as error:
        fail(error)
    db.session.commit()
    signed = "signed" if webhook.secret else "unsigned"
    click.echo(f"added webhook {webhook.name} -> {webhook.url} ({webhook.format}, {signed})")


@webhooks.command("list")
@with_appcontext
def list_() -> None:
    """List webhooks."""
    rows = list_webhooks()
    if not rows:
        click.echo("no webhooks; add one with: flask --app crisis webhooks add NAME URL")
        return
    for webhook in rows:
        state = "active" if webhook.active else "off"
        signed = "signed" if webhook.secret else "unsigned"
        click.echo(f"{webhook.name}\t{webhook.format}\t{state}\t{signed}\t{webhook.url}")


@webhooks.command("disable")
@click.argument("name")
@with_appcontext
def disable(name: str) -> None:
    """Stop sending to a webhook."""
    try:
        set_webhook_active(name=name, active=False, actor_label="cli")
    except DomainError as error:
        fail(error)
    db.session.commit()
    click.echo(f"webhook {name} is off")


@webhooks.command("enable")
@click.argument("name")
@with_appcontext
def enable(name: str) -> None:
    """Resume sending to a webhook."""
    try:
        set_webhook_active(name=name, active=True, actor_label="cli")
    except DomainError as error:
        fail(error)
    db.session.commit()
    click.echo(f"webhook {name} is active")


commands: list[click.Command] = [webhooks]
