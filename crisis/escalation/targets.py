"""Who an escalation level reaches: one resolver for overdue steps and overdue approvals.

A level's `notify` targets mean the same for both:

- `owner`: whoever owns the work: the step's owner (an unowned step: its role's primary); for an
  approval, the approver role's primary (an approval belongs to the role, not to one person);
- `role_lead`: the first holder of the step's (or approval's) role, in rank order (primary, then
  backups), whom this step's escalation has not reached yet; once all were, the primary;
- `triage_owner`: the incident's triage owner;
- `exec_sponsor`: the primary of the exec-sponsor role;
- `role:<name>`: the primary of that role.

Every level reaches someone new: targets an earlier level of the same step (or approval round)
already reached are left out, and when that leaves nobody the level goes on to the next person
not yet reached: the role's holders in rank order (primary, then backups), then the triage
role's backups, then the executive sponsor. A level that still finds nobody new notifies its
named targets again and says so (the caller records it on the timeline).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from crisis.enums import ResponseRole
from crisis.escalation.models import StepEscalation
from crisis.escalation.policy import level_for
from crisis.extensions import db
from crisis.people.models import Person, RoleMembership
from crisis.playbooks.definition import ROLE_TARGET_PREFIX
from crisis.playbooks.service import definition_of

EXEC_SPONSOR_ROLE = ResponseRole.EXEC_SPONSOR.value


@dataclass(frozen=True)
class Contact:
    """What notifying a person needs, copied out of the session so it outlives each batch's commit."""

    id: int
    email: str
    name: str
    active: bool
    notify_email: bool
    notify_in_app: bool
    timezone: str | None = None

    @classmethod
    def of(cls, person: Any) -> Contact | None:
        if person is None:
            return None
        return cls(person.id, person.email, person.name, person.active, person.notify_email,
                   person.notify_in_app, person.timezone)


_COLUMNS = (Person.id, Person.email, Person.name, Person.active, Person.notify_email, Person.notify_in_app,
            Person.timezone)


class Directory:
    """People and rosters looked up once per sweep, however many batches it runs."""

    def __init__(self) -> None:
        self.people: dict[int, Contact | None] = {}
        self._rosters: dict[str, list[Contact]] | None = None

    def load(self, person_ids: Iterable[int | None]) -> None:
        missing = {i for i in person_ids if i is not None and i not in self.people}
        if missing:
            for row in db.session.execute(select(*_COLUMNS).where(Person.id.in_(missing))):
                self.people[row.id] = Contact(*row)
            for person_id in missing - set(self.people):
                self.people[person_id] = None

    def person(self, person_id: int | None) -> Contact | None:
        if person_id is None:
            return None
        if person_id not in self.people:
            self.load({person_id})
        return self.people[person_id]

    def holders(self, role: str) -> list[Contact]:
        """Return a role's active holders: the primary first, then backups by rank."""
        if self._rosters is None:
            # Every roster at once: a few rows per role, one query per sweep.
            self._rosters = {}
            query = (
                select(RoleMembership.role, *_COLUMNS)
                .join(Person, Person.id == RoleMembership.person_id)
                .where(Person.active.is_(True))
                .order_by(RoleMembership.role, RoleMembership.is_backup, RoleMembership.rank, Person.id)
            )
            for row in db.session.execute(query):
                contact = Contact(*row[1:])
                self.people.setdefault(contact.id, contact)
                self._rosters.setdefault(row.role, []).append(contact)
        return self._rosters.get(role, [])

    def primary(self, role: str) -> Contact | None:
        holders = self.holders(role)
        return holders[0] if holders else None


@dataclass(frozen=True)
class Reach:
    """Whom one escalation level notifies."""

    people: list[Contact]
    # True when every candidate had been reached before: `people` are the named targets again.
    nobody_new: bool = False


def named_targets(
    targets: Sequence[str], *, owner_id: int | None, triage_owner_id: int | None, role: str,
    directory: Directory, reached: Collection[int] = (), exclude: Collection[int] = (),
) -> list[Contact]:
    """Resolve a level's `notify` targets to active people, in order, without repeats."""
    chosen: list[Contact] = []
    for target in targets:
        if target == "role_lead":
            taken = {*reached, *exclude, *(p.id for p in chosen)}
            holders = directory.holders(role)
            person = next((p for p in holders if p.id not in taken), holders[0] if holders else None)
            if person is not None and all(p.id != person.id for p in chosen):
                chosen.append(person)
            continue
        if target == "owner":
            person = directory.person(owner_id) if owner_id else directory.primary(role)
        elif target == "triage_owner":
            person = directory.person(triage_owner_id)
        elif target == "exec_sponsor":
            person = directory.primary(EXEC_SPONSOR_ROLE)
        elif target.startswith(ROLE_TARGET_PREFIX):
            person = directory.primary(target.removeprefix(ROLE_TARGET_PREFIX))
        else:
            person = None
        if person is not None and person.active and all(p.id != person.id for p in chosen):
            chosen.append(person)
    return chosen


def resolve_level(
    targets: Sequence[str], *, owner_id: int | None, triage_owner_id: int | None, role: str, triage_role: str,
    reached: Collection[int] = (), exclude: Collection[int] = (), directory: Directory | None = None,
) -> Reach:
    """Return whom a level notifies: its targets not reached before, else the next person who is new."""
    directory = directory or Directory()
    named = [
        person for person in named_targets(
            targets, owner_id=owner_id, triage_owner_id=triage_owner_id, role=role, directory=directory,
            reached=reached, exclude=exclude,
        )
        if person.id not in exclude
    ]
    new = [person for person in named if person.id not in reached]
    if new:
        return Reach(people=new)
    fallback = [*directory.holders(role), *directory.holders(triage_role)[1:], directory.primary(EXEC_SPONSOR_ROLE)]
    for person in fallback:
        if person is not None and person.active and person.id not in reached and person.id not in exclude:
            return Reach(people=[person])
    return Reach(people=named, nobody_new=True)


def is_exec_sponsor(person: Contact, directory: Directory) -> bool:
    """Whether the person is on the exec-sponsor roster (the executive level also reaches them in the app)."""
    return any(holder.id == person.id for holder in directory.holders(EXEC_SPONSOR_ROLE))


def next_levels(steps: Sequence[Any]) -> dict[int, tuple[Any, list[str]]]:
    """Return, for each escalating step, when its next level fires and the names it will reach."""
    waiting = [s for s in steps if s.next_escalation_at is not None]
    if not waiting:
        return {}
    reached: dict[int, set[int]] = {s.id: set() for s in waiting}
    for step_id, notified in db.session.execute(
        select(StepEscalation.step_id, StepEscalation.notified).where(StepEscalation.step_id.in_(reached))
    ):
        reached[step_id].update(notified or ())
    directory = Directory()
    result = {}
    for step in waiting:
        playbook = definition_of(step.incident.playbook_version)
        spec = level_for(playbook.escalation, step.escalation_level + 1)
        if spec is None:
            continue
        reach = resolve_level(spec.notify, owner_id=step.owner_id, triage_owner_id=step.incident.triage_owner_id,
                              role=step.role, triage_role=playbook.triage_role, reached=reached[step.id],
                              directory=directory)
        result[step.id] = (step.next_escalation_at, [p.name for p in reach.people])
    return result
