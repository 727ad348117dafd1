"""CLI: `playbooks validate [PATH]`, `playbooks sync`, `playbooks simulate KEY --severity SEV1`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from crisis import clock
from crisis.errors import NotFound
from crisis.extensions import db
from crisis.playbooks.definition import SEVERITIES, Playbook
from crisis.playbooks.durations import format_duration
from crisis.playbooks.service import definition_of, get_playbook_version, sync_playbooks
from crisis.playbooks.simulation import SimulatedStep, simulate
from crisis.playbooks.validation import (
    PlaybookInvalid,
    PlaybookProblem,
    load_directory,
    parse_playbook,
)


@click.group("playbooks", help="Validate, sync and simulate playbooks.")
def playbooks() -> None:
    pass


@playbooks.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def validate(path: Path | None) -> None:
    """List every problem in a playbook file or directory (exit 1 if there is any)."""
    target = path or Path(current_app.config["PLAYBOOKS_DIR"])
    problems: list[PlaybookProblem]
    if not target.exists():
        raise click.ClickException(f"{target}: no such file or directory")
    if target.is_file():
        try:
            playbook = parse_playbook(target.read_text(encoding="utf-8"), source=str(target))
        except UnicodeDecodeError as error:
            raise click.ClickException(f"{target}: not UTF-8 text: {error}") from None
        except PlaybookInvalid as invalid:
            problems, keys = invalid.problems, []
        else:
            problems, keys = [], [playbook.key]
    else:
        loaded, problems = load_directory(target)
        keys = [item.playbook.key for item in loaded]
    for problem in problems:
        click.echo(str(problem))
    if problems:
        files = len({p.file for p in problems})
        click.echo(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}; {len(keys)} valid playbook"
            f"{'s' if len(keys) != 1 else ''}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"ok: {len(keys)} playbook{'s' if len(keys) != 1 else ''} valid"
               + (f" ({', '.join(sorted(keys))})" if keys else ""))


@playbooks.command("sync")
@click.option("--directory", type=click.Path(path_type=Path),
              help="Directory of playbook files (default: CRISIS_PLAYBOOKS_DIR).")
@with_appcontext
def sync(directory: Path | None) -> None:
    """Store a new version of every changed playbook; invalid files change nothing."""
    report = sync_playbooks(directory=directory or current_app.config["PLAYBOOKS_DIR"])
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    click.echo(f"playbooks: {report.summary()}")
    if report.problems:
        raise SystemExit(1)


@playbooks.command("simulate")
@click.argument("key")
@click.option("--severity", required=True, type=click.Choice(SEVERITIES, case_sensitive=False))
@click.option("--answer", "answers", multiple=True, metavar="QUESTION=VALUE",
              help="A triage answer, e.g. --answer author=misguided (repeatable).")
@click.option("--at", "declared", metavar="ISO-TIME",
              help="Declaration time, e.g. 2026-11-21T09:00:00+00:00 (default: now).")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Simulate this file instead of the synced version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def simulate_command(key, severity, answers, declared, file, as_json) -> None:
    """Show when each step would be due and when each escalation level would fire."""
    playbook, origin = _find(key, file)
    parsed_answers = _parse_answers(answers)
    declared_at = _parse_time(declared) if declared else clock.now().replace(microsecond=0)
    try:
        schedule = simulate(playbook, severity=severity.upper(), answers=parsed_answers,
                            declared_at=declared_at)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(_as_json(playbook, origin, severity.upper(), parsed_answers,
                                       declared_at, schedule), indent=2))
    else:
        _print_table(playbook, origin, severity.upper(), parsed_answers, declared_at, schedule)



def _find(key: str, file: Path | None) -> tuple[Playbook, str]:
    if file is not None:
        try:
            playbook = parse_playbook(file.read_text(encoding="utf-8"), source=str(file))
        except PlaybookInvalid as invalid:
            raise click.ClickException(
                "the file is invalid:\n" + "\n".join(str(p) for p in invalid.problems)
            ) from None
        if playbook.key != key:
            raise click.ClickException(f"{file} holds playbook {playbook.key!r}, not {key!r}")
        return playbook, str(file)
    try:
        version = get_playbook_version(key)
    except (NotFound, SQLAlchemyError):
        db.session.rollback()  # e.g. a database not migrated yet: authors can still simulate
        # Not synced yet: an author may simulate straight from the playbooks directory.
        loaded, _ = load_directory(current_app.config["PLAYBOOKS_DIR"])
        for item in loaded:
            if item.playbook.key == key:
                return item.playbook, f"{item.source} (not synced)"
        raise click.ClickException(f"no playbook {key!r} (run `playbooks sync`?)") from None
    return definition_of(version), f"version {version.version}"


def _parse_answers(values: tuple[str, ...]) -> dict[str, str]:
    answers = {}
    for value in values:
        question, sep, answer = value.partition("=")
        if not sep or not question.strip() or not answer.strip():
            raise click.BadParameter(f"{value!r} is not QUESTION=VALUE", param_hint="--answer")
        answers[question.strip()] = answer.strip()
    return answers


def _parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--at") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _as_json(playbook, origin, severity, answers, declared_at, schedule) -> dict:
    return {
        "playbook": playbook.key,
        "title": playbook.title,
        "source": origin,
        "severity": severity,
        "answers": answers,
        "declared_at": declared_at.isoformat(),
        "steps": [
            {
                "key": step.key,
                "title": step.title,
                "role": step.role,
                "active_at": step.active_at.isoformat(),
                "due_at": step.due_at.isoformat(),
                "escalations": [
                    {
                        "level": e.level,
                        "at": e.at.isoformat(),
                        "notify": list(e.notify),
                        "channels": list(e.channels),
                        "repeat": e.repeat,
                    }
                    for e in step.escalations
                ],
            }
            for step in schedule
        ],
    }


def _print_table(playbook: Playbook, origin: str, severity: str, answers: dict[str, str],
                 declared_at: datetime, schedule: list[SimulatedStep]) -> None:
    def when(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M} (+{format_duration(moment - declared_at)})"

    click.echo(f"{playbook.key} ({origin}): {playbook.title}")
    shown = ", ".join(f"{k}={v}" for k, v in answers.items()) or "none"
    click.echo(f"severity {severity}, declared {declared_at:%Y-%m-%d %H:%M %Z}, answers: {shown}")
    click.echo("assumes every step finishes exactly when due; skipped and unanswered "
               "conditional steps are left out and count as finished.")
    width = max([len(s.key) for s in schedule] + [4])
    role_width = max([len(s.role) for s in schedule] + [4])
    click.echo("")
    click.echo(f"{'STEP':<{width}}  {'ROLE':<{role_width}}  {'ACTIVE':<27}  DUE")
    for step in schedule:
        click.echo(f"{step.key:<{width}}  {step.role:<{role_width}}  "
                   f"{when(step.active_at):<27}  {when(step.due_at)}")
        for e in step.escalations:
            label = f"level {e.level}" + (" (repeat)" if e.repeat else "")
            click.echo(f"{'':<{width}}    {label:<18} {when(e.at):<27}  "
                       f"{', '.join(e.notify)} via {', '.join(e.channels)}")
    left_out = [s.key for s in playbook.steps if s.key not in {x.key for x in schedule}]
    if left_out:
        click.echo("")
        click.echo(f"left out (does not apply or waits for an answer): {', '.join(left_out)}")


commands = [playbooks]
