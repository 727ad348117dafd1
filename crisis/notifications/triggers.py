"""Who is told what when work lands on them: the one home of every "you have work" message.

The domain functions call these at the moment work lands (declaring, a step starting, a
hand-over, a statement submitted, approved, sent back or published, a step about to fall due),
in their own transaction. Each trigger writes at most one message per person, whatever roles
that person holds, through the outbox (`notify`), honouring each person's channel choices. Its
dedup key names the trigger and the thing it is about, so a repeat of the same trigger writes
nothing. Nobody is told of work they just did themselves (the actor is left out), except on
declaring, where the triage owner always gets the summary of what is now theirs.

Personal messages go to email and the in-app inbox; the team's webhooks hear of a declaration
once (the team channel wants the news, not every hand-over).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from crisis.escalation.targets import EXEC_SPONSOR_ROLE, Contact, Directory
from crisis.extensions import db
from crisis.incidents.models import Incident
from crisis.notifications.service import notify
from crisis.playbooks.definition import Playbook
from crisis.statements.checks import capitalised, statement_name
from crisis.statements.models import SpokespersonAuthorisation, Statement

PERSONAL = ("email", "in_app")


@dataclass(frozen=True)
class StepWork:
    """A step that just landed on someone."""

    id: int
    key: str
    title: str
    role: str
    owner_id: int | None
    due_at: datetime | None


@dataclass
class _Message:
    person: Contact
    lines: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    anchor: str = ""


def local_time(value: datetime | None, person: Contact | None) -> str:
    """Say a time in the recipient's own time zone, e.g. '14:05 CET, Wed 2 Dec'."""
    if value is None:
        return "no due time"
    default = current_app.config["TIMEZONE"]
    try:
        zone = ZoneInfo((person.timezone if person else None) or default)
    except (KeyError, ValueError):
        zone = ZoneInfo(default)
    local = value.astimezone(zone)
    return local.strftime("%H:%M %Z, %a ") + str(local.day) + local.strftime(" %b")


def by_local_time(value: datetime | None, people: Iterable[Contact]) -> dict[str, list[Contact]]:
    """Group people by how `value` reads in each one's time zone (one message per group)."""
    groups: dict[str, list[Contact]] = {}
    for person in people:
        groups.setdefault(local_time(value, person), []).append(person)
    return groups


def _link(incident_ref: str, anchor: str = "") -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/incidents/{incident_ref}{anchor}"


def _send(
    messages: Iterable[_Message], *, incident: Incident | None, ref: str, title: str, key: str,
    channels: Sequence[str] = PERSONAL,
) -> int:
    """Write one outbox message per person; return how many people it went to."""
    count = 0
    for message in messages:
        subject = f"[{ref}] " + ("; ".join(message.subjects) if len(message.subjects) < 3
                                 else f"{len(message.subjects)} things need you")
        lines = message.lines if len(message.lines) > 1 else [line.removeprefix("- ") for line in message.lines]
        body = f"{ref}: {title}\n\n" + "\n".join(lines)
        notify(recipients=[message.person], subject=subject, body=body, incident=incident, dedup_key=key,
               channels=channels, link=_link(ref, message.anchor))
        count += 1
    return count


def _collect(directory: Directory) -> tuple[dict[int, _Message], Callable[..., None]]:
    messages: dict[int, _Message] = {}

    def add(person_id: int | None, subject: str, line: str, *, anchor: str = "", exclude: Iterable[int] = ()) -> None:
        person = directory.person(person_id)
        if person is None or not person.active or person.id in set(exclude):
            return
        message = messages.setdefault(person.id, _Message(person=person, anchor=anchor))
        message.subjects.append(subject)
        message.lines.append(line)

    return messages, add


def _owner_of(step: StepWork, directory: Directory) -> int | None:
    """An unowned step is its role's to pick up: the role's primary hears of it."""
    if step.owner_id is not None:
        return step.owner_id
    primary = directory.primary(step.role)
    return primary.id if primary else None


def _step_line(step: StepWork, person_id: int | None, directory: Directory, *, unowned: bool) -> str:
    due = local_time(step.due_at, directory.person(person_id))
    line = f"- “{step.title}” is yours now, due {due}."
    if unowned:
        line = f"- “{step.title}” has no owner; you hold its role ({step.role}). Due {due}."
    return line


def incident_declared(
    *, incident_id: int, ref: str, title: str, severity: str, is_drill: bool, playbook: Playbook,
    triage_owner_id: int | None, started: Sequence[StepWork],
) -> int:
    """Tell the triage owner, the owners of the first steps and (at set severities) the sponsor."""
    incident = db.session.get(Incident, incident_id)
    directory = Directory()
    directory.load({triage_owner_id, *(s.owner_id for s in started)})
    messages, add = _collect(directory)
    drill = " (drill)" if is_drill else ""
    add(triage_owner_id, f"You are the triage owner{drill}",
        f"- {severity}{drill} declared from “{playbook.title}”; you are its triage owner: size it, set the "
        "severity and answer the triage questions.")
    for step in started:
        owner_id = _owner_of(step, directory)
        add(owner_id, f"“{step.title}” is yours", _step_line(step, owner_id, directory, unowned=step.owner_id is None),
            anchor=f"#step-{step.key}")
    if severity in playbook.notifications.sponsor_on_declare:
        sponsor = directory.primary(EXEC_SPONSOR_ROLE)
        if sponsor is not None:
            add(sponsor.id, f"{severity} declared{drill}",
                f"- {severity}{drill} declared from “{playbook.title}”; you are the executive sponsor. "
                "Nothing to do yet: follow it on the incident page.")
    sent = _send(messages.values(), incident=incident, ref=ref, title=title, key=f"declared:{incident_id}")
    # The team channel hears of the new incident once.
    notify(recipients=[], subject=f"[{ref}] {severity}{drill} declared: {title}",
           body=f"{ref}: {title}\n{severity}{drill} declared from “{playbook.title}”.", incident=incident,
           dedup_key=f"declared:{incident_id}", channels=("webhook",), link=_link(ref))
    return sent


def steps_started(*, incident: Incident, steps: Sequence[StepWork], actor_id: int | None) -> int:
    """Tell each owner (or, for an unowned step, its role's primary) that steps started for them."""
    if not steps:
        return 0
    directory = Directory()
    directory.load({s.owner_id for s in steps})
    messages, add = _collect(directory)
    for step in steps:
        owner_id = _owner_of(step, directory)
        add(owner_id, f"“{step.title}” is yours", _step_line(step, owner_id, directory, unowned=step.owner_id is None),
            anchor=f"#step-{step.key}", exclude=[actor_id] if actor_id else ())
    ids = ",".join(str(s.id) for s in sorted(steps, key=lambda s: s.id))
    key = f"started:{ids}" if len(ids) < 60 else f"started:{hashlib.sha1(ids.encode()).hexdigest()}"
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title, key=key)


def step_handed_over(
    *, incident: Incident, step: StepWork, previous_owner_id: int | None, actor_id: int, at: datetime
) -> int:
    """Tell the new owner the step is theirs, and the previous owner that it left them."""
    directory = Directory()
    directory.load({step.owner_id, previous_owner_id, actor_id})
    actor = directory.person(actor_id)
    by = actor.name if actor else "someone"
    messages, add = _collect(directory)
    new_owner = directory.person(step.owner_id)
    add(step.owner_id, f"“{step.title}” was handed to you",
        f"- {by} handed “{step.title}” to you; due {local_time(step.due_at, new_owner)}. Acknowledge it when you "
        "take it up.", anchor=f"#step-{step.key}", exclude=[actor_id])
    add(previous_owner_id, f"“{step.title}” is no longer yours",
        f"- {by} handed “{step.title}” to {new_owner.name if new_owner else 'someone else'}; nothing more to do "
        "on it for you.", anchor=f"#step-{step.key}", exclude=[actor_id])
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title,
                 key=f"handover:{step.id}:{at.isoformat()}")


def step_due_soon(*, incident: Incident, step: StepWork) -> int:
    """Remind the step's owner (or its role's primary) that it falls due soon."""
    directory = Directory()
    owner_id = _owner_of(step, directory)
    person = directory.person(owner_id)
    messages, add = _collect(directory)
    add(owner_id, f"“{step.title}” is due at {local_time(step.due_at, person).split(',')[0]}",
        f"- Reminder: “{step.title}” falls due {local_time(step.due_at, person)}. Complete it, or hand it over if "
        "you cannot.", anchor=f"#step-{step.key}")
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title,
                 key=f"reminder:{step.id}")


# -- statements ------------------------------------------------------------------------------

def _statement_ref(statement: Statement) -> str:
    return statement_name(statement)


def statement_waiting(*, statement: Statement, roles: Iterable[str], author_id: int | None, round_: int,
                      due_at: datetime | None = None) -> int:
    """Tell everyone on the rosters of the roles still to sign, except whoever wrote the wording."""
    incident = statement.incident
    directory = Directory()
    messages, add = _collect(directory)
    for person in [holder for role in roles for holder in directory.holders(role)]:
        add(person.id, f"Please review {_statement_ref(statement)}",
            f"- {capitalised(_statement_ref(statement))} waits for your sign-off, due "
            f"{local_time(due_at, person)}:\n\n{statement.body}",
            anchor=f"#statement-{statement.id}", exclude=[author_id] if author_id else ())
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title,
                 key=f"review:{statement.id}:v{statement.version}:r{round_}")


def statement_approved(*, statement: Statement, spokesperson_ids: Iterable[int], step_owner_ids: Iterable[int],
                       actor_id: int) -> int:
    """Tell the spokespeople who may publish it, and the publishing step's owner, that it may go out."""
    incident = statement.incident
    directory = Directory()
    messages, add = _collect(directory)
    line = f"- {capitalised(_statement_ref(statement))} is approved and waits to be published:\n\n{statement.body}"
    for person_id in [*spokesperson_ids, *step_owner_ids]:
        add(person_id, f"{capitalised(_statement_ref(statement))} is ready to publish", line,
            anchor=f"#statement-{statement.id}", exclude=[actor_id])
    # One message per person: holding both roles must not mean two lines.
    for message in messages.values():
        message.subjects, message.lines = message.subjects[:1], message.lines[:1]
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title,
                 key=f"approved:{statement.id}:v{statement.version}")


def statement_sent_back(*, statement: Statement, author_id: int | None, actor_id: int, reason: str) -> int:
    """Tell the author of the wording that it was sent back, and why."""
    incident = statement.incident
    directory = Directory()
    actor = directory.person(actor_id)
    messages, add = _collect(directory)
    add(author_id, f"{capitalised(_statement_ref(statement))} was sent back",
        f"- {actor.name if actor else 'An approver'} sent {_statement_ref(statement)} back: {reason}\n"
        "Edit the wording and submit it again.", anchor=f"#statement-{statement.id}", exclude=[actor_id])
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title,
                 key=f"sent-back:{statement.id}:v{statement.version}")


def statement_published(*, statement: Statement, actor_id: int) -> int:
    """Tell the triage owner that a statement went out."""
    incident = statement.incident
    directory = Directory()
    actor = directory.person(actor_id)
    messages, add = _collect(directory)
    add(incident.triage_owner_id, f"{capitalised(_statement_ref(statement))} was published",
        f"- {actor.name if actor else 'A spokesperson'} published {_statement_ref(statement)}: "
        f"{statement.published_url}", anchor=f"#statement-{statement.id}", exclude=[actor_id])
    return _send(messages.values(), incident=incident, ref=incident.ref, title=incident.title,
                 key=f"published:{statement.id}")


def live_spokespeople(platform: str) -> list[int]:
    """Return the ids of people authorised (and trained) to publish on this platform."""
    return list(db.session.scalars(
        select(SpokespersonAuthorisation.person_id).where(
            SpokespersonAuthorisation.platform.in_([platform, "*"]),
            SpokespersonAuthorisation.revoked_at.is_(None),
            SpokespersonAuthorisation.trained_at.is_not(None),
        ).order_by(SpokespersonAuthorisation.person_id)
    ).unique())
