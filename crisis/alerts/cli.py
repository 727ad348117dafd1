"""CLI: `alerts validate-rules [PATH]` checks the alert routing rules file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from crisis.alerts.routing import RulesInvalid, load_rules
from crisis.alerts.service import rules_path
from crisis.playbooks.validation import load_directory


@click.group("alerts", help="Inbound alert routing.")
def alerts() -> None:
    pass


@alerts.command("validate-rules")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def validate_rules(path: Path | None) -> None:
    """List every problem in the routing rules file (exit 1 if there is any)."""
    target = path or rules_path()
    loaded, _ = load_directory(current_app.config["PLAYBOOKS_DIR"])
    try:
        rules = load_rules(target, playbook_keys=[item.playbook.key for item in loaded])
    except RulesInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem))
        count = len(invalid.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} in {target}", err=True)
        raise SystemExit(1) from None
    defaults = rules.defaults
    click.echo(
        f"{target}: {len(rules.rules)} rule{'s' if len(rules.rules) != 1 else ''} valid; "
        f"otherwise {defaults.mode} with playbook {defaults.playbook or '(chosen by a person)'} "
        f"at {defaults.severity}"
    )
    for rule in rules.rules:
        click.echo(f"  {rule.name}: {rule.mode or defaults.mode} -> {rule.playbook or defaults.playbook}")


commands = [alerts]
