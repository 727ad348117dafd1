"""Demo data: a small response team with every role, so a new install can be tried at once."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from crisis import clock
from crisis.extensions import db
from crisis.incidents.demo import seed_demo_incidents
from crisis.people.service import create_person, find_person
from crisis.statements import service as statements
from crisis.training.courses import courses
from crisis.training.service import latest_completion, record_completion

DEMO_PASSWORD = "crisis-demo-2026"

# email, name, permissions, response roles
DEMO_PEOPLE = [
    ("admin@example.com", "Alex Admin", ["admin"], []),
    ("comms.lead@example.com", "Casey Comms", ["declare", "respond", "approve", "view"], ["triage-lead", "comms-lead"]),
    ("triage.backup@example.com", "Taylor Triage", ["declare", "respond", "view"], ["triage-lead:backup"]),
    ("social@example.com", "Sam Social", ["declare", "respond", "view"], ["social-media-manager", "community-moderator"]),
    ("care@example.com", "Chris Care", ["respond", "view"], ["customer-care"]),
    ("legal@example.com", "Lee Legal", ["respond", "approve", "view"], ["legal"]),
    ("marketing@example.com", "Morgan Marketing", ["respond", "approve", "view"], ["marketing"]),
    ("spokesperson@example.com", "Pat Spokes", ["respond", "publish", "view"], ["spokesperson"]),
    ("security@example.com", "Sky Security", ["respond", "view"], ["security"]),
    ("hr@example.com", "Harper HR", ["respond", "view"], ["hr"]),
    ("exec@example.com", "Erin Exec", ["view"], ["exec-sponsor"]),
]


def seed_demo() -> list[str]:
    """Create the demo people that do not exist yet; return the emails created."""
    created = []
    for email, name, permissions, roles in DEMO_PEOPLE:
        if find_person(email) is None:
            create_person(email=email, name=name, password=DEMO_PASSWORD, permissions=permissions, roles=roles)
            created.append(email)
    _seed_statements()
    _seed_training()

    seed_demo_incidents()
    db.session.commit()
    return created


def _seed_statements() -> None:
    """Authorise the demo spokesperson (trained) everywhere and start the holding-statement library."""

    admin, spokesperson = find_person("admin@example.com"), find_person("spokesperson@example.com")
    if admin is None or spokesperson is None:
        return
    if not any(a.person_id == spokesperson.id for a in statements.list_spokespeople()):
        statements.authorise_spokesperson(person=spokesperson, platform="*", trained_at=clock.now(), granted_by=admin)
    if not statements.list_holding_statements():
        statements.add_holding_statement(
            title="We are aware and looking into it", platform="",
            body="We've seen {link} and we're looking into it now. We'll update you here shortly. — {company}",
            approved_by=admin,
        )


def _seed_training() -> None:
    """Record, a month back, the courses each demo person's roles need, so the demo team starts ready."""
    admin = find_person("admin@example.com")
    trained_on = (clock.now() - timedelta(days=30)).date()
    for email, _name, _permissions, roles in DEMO_PEOPLE:
        person = find_person(email)
        held = {role.split(":")[0] for role in roles}
        for course in courses().values():
            if person is None or not held & set(course.roles):
                continue
            if latest_completion(person_id=person.id, course_key=course.key) is None:
                record_completion(person=person, course_key=course.key, completed_on=trained_on, source="cli",
                                  recorded_by=admin, evidence="Demo data")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create demo people (idempotent)."""
    created = seed_demo()
    for email in created:
        click.echo(f"created {email}")
    click.echo(f"{len(created)} demo people created; password for each: {DEMO_PASSWORD}")


commands = [seed_demo_command]
