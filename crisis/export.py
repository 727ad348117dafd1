"""`flask --app crisis export PATH`: everything the desk knows, without secrets, as JSON Lines.

One JSON object per line, each with a `type`; the first line says what the file is. Records
refer to each other by `id` (and people by `id`, with their email on the person record), so a
reader can rebuild the whole picture. Tables are read in id order, a batch at a time, so an
export of a large database runs in constant memory. See the README's "Export" section.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import selectinload

from crisis import clock
from crisis.admin.models import AuditEvent
from crisis.alerts.models import Alert
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.people.models import Person, PersonPermission, RoleMembership
from crisis.playbooks.models import PlaybookVersion
from crisis.reviews.models import PostIncidentReview
from crisis.statements.models import HoldingStatement, SpokespersonAuthorisation, Statement
from crisis.timeline.models import TimelineEvent

FORMAT = 1
BATCH = 500
# Never exported: password hashes, session counters and anything else that grants access.
SECRET_COLUMNS = frozenset({"password_hash", "session_version", "token_hash", "secret"})


@dataclass(frozen=True)
class Section:
    """One record type of the export: the model, what to load with it, and its nested lists."""

    type: str
    model: Any
    options: tuple = ()
    nested: tuple[tuple[str, str], ...] = ()  # (attribute, key in the record)


SECTIONS = (
    Section("person", Person, (selectinload(Person.permissions), selectinload(Person.roles)),
            (("permissions", "permissions"), ("roles", "roles"))),
    Section("playbook_version", PlaybookVersion),
    Section("incident", Incident, (selectinload(Incident.steps), selectinload(Incident.links)),
            (("steps", "steps"), ("links", "links"))),
    Section("timeline_event", TimelineEvent),
    Section("statement", Statement, (selectinload(Statement.versions), selectinload(Statement.approvals)),
            (("versions", "versions"), ("approvals", "approvals"))),
    Section("holding_statement", HoldingStatement),
    Section("spokesperson_authorisation", SpokespersonAuthorisation),
    Section("review", PostIncidentReview, (selectinload(PostIncidentReview.actions),
                                           selectinload(PostIncidentReview.versions)),
            (("actions", "actions"), ("versions", "versions"))),
    Section("alert", Alert),
    Section("audit_event", AuditEvent),
)


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_dict(row: Any) -> dict[str, Any]:
    """Return a model row's columns as JSON-ready values, secrets left out."""
    if isinstance(row, PersonPermission):
        return {"permission": row.permission}
    if isinstance(row, RoleMembership):
        return {"role": row.role, "is_backup": row.is_backup, "rank": row.rank}
    mapper = inspect(type(row))
    return {column.key: _value(getattr(row, column.key)) for column in mapper.column_attrs
            if column.key not in SECRET_COLUMNS}


def records(section: Section) -> Iterator[dict[str, Any]]:
    """Yield the section's records in id order, a batch at a time."""
    model = section.model
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(model).options(*section.options).where(model.id > last_id).order_by(model.id).limit(BATCH)
        ).unique().all()
        if not batch:
            return
        for row in batch:
            record = {"type": section.type, **row_dict(row)}
            for attribute, key in section.nested:
                record[key] = [row_dict(item) for item in getattr(row, attribute)]
            yield record
        last_id = batch[-1].id
        db.session.expunge_all()  # constant memory however large the tables


def export_everything(*, out: IO[str], progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Write every section as JSON Lines to `out`; return how many records of each type."""
    counts: dict[str, int] = {}
    header = {"type": "export", "format": FORMAT, "exported_at": clock.now().isoformat(),
              "types": ["roster", *(section.type for section in SECTIONS)]}
    out.write(json.dumps(header) + "\n")
    counts["roster"] = _write_rosters(out)
    for section in SECTIONS:
        total = db.session.scalar(select(func.count()).select_from(section.model)) or 0
        written = 0
        for record in records(section):
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            written += 1
            if progress is not None and (written % BATCH == 0 or written == total):
                progress(section.type, written, total)
        if progress is not None and total == 0:
            progress(section.type, 0, 0)
        counts[section.type] = written
    return counts


def _write_rosters(out: IO[str]) -> int:
    """Write each response role's roster: its primary, then its backups in the order they are asked."""
    rows = db.session.execute(
        select(RoleMembership.role, RoleMembership.is_backup, Person.email)
        .join(Person, Person.id == RoleMembership.person_id)
        .order_by(RoleMembership.role, RoleMembership.is_backup, RoleMembership.rank, RoleMembership.id)
    ).all()
    rosters: dict[str, dict[str, Any]] = {}
    for role, is_backup, email in rows:
        roster = rosters.setdefault(role, {"type": "roster", "role": role, "primary": None, "backups": []})
        if is_backup:
            roster["backups"].append(email)
        elif roster["primary"] is None:
            roster["primary"] = email
    for roster in rosters.values():
        out.write(json.dumps(roster, ensure_ascii=False) + "\n")
    return len(rosters)


@click.command("export", help="Write everything (no secrets) to PATH as JSON Lines; see the README.")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_command(path: Path) -> None:
    def report(kind: str, written: int, total: int) -> None:
        click.echo(f"\r{kind}: {written} of {total}" + ("\n" if written == total else ""), nl=False, err=True)

    with path.open("w", encoding="utf-8") as out:
        counts = export_everything(out=out, progress=report)
    click.echo(f"Exported {sum(counts.values())} records to {path}.")


commands = [export_command]
