"""CLI: `scheduler` runs the escalation sweep and outbox delivery; `escalation sweep` runs one sweep."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from crisis.escalation.scheduler import (
    delivery_job,
    readiness_job,
    run_blocking_scheduler,
    sweep_all,
    sweep_job,
)
from crisis.extensions import db
from crisis.notifications.delivery import deliver_due


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run one sweep, one readiness sweep and one delivery round, then exit.")
@with_appcontext
def scheduler(once: bool) -> None:
    """Run the escalation sweep and outbox delivery until SIGTERM/SIGINT (one per host is plenty)."""

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        sweep_job(app)
        readiness_job(app)
        delivery_job(app)
        click.echo("scheduler: one sweep and one delivery round done")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO: two lines a second at the default interval.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    click.echo(
        f"scheduler: sweeping every {app.config['SWEEP_SECONDS']}s, delivering every "
        f"{app.config['OUTBOX_SECONDS']}s; stop with Ctrl-C or SIGTERM"
    )
    run_blocking_scheduler(app)
    click.echo("scheduler: stopped")


@click.group("escalation", help="Escalation engine.")
def escalation() -> None:
    pass


@escalation.command("sweep")
@with_appcontext
def sweep() -> None:
    """Run one escalation sweep (with approvals and reminders) now and print what it did."""
    result = sweep_all()
    db.session.remove()
    click.echo(f"escalated {result.escalated} step level(s), stopped {result.stopped}, in {result.seconds:.3f}s")


@escalation.command("deliver")
@with_appcontext
def deliver() -> None:
    """Run one outbox delivery round now and print what it did."""
    result = deliver_due()
    click.echo(f"attempted {result.attempted}: sent {result.sent}, retrying {result.retrying}, failed {result.failed}")


commands: list[click.Command] = [scheduler, escalation]
