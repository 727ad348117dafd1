"""Where a person lands after signing in: their work first, the overview otherwise."""

from __future__ import annotations

from flask import url_for

from crisis.enums import Permission
from crisis.incidents import service as incidents
from crisis.people.models import Person
from crisis.permissions import has_permission
from crisis.statements.waiting import approvals_waiting_on


def waiting_count(person: Person) -> int:
    """Return how many running steps and approvals wait on the person."""
    running = [s for s in incidents.steps_for(person) if s.status in incidents.RUNNING]
    return len(running) + len(approvals_waiting_on(person))


def landing_url(person: Person) -> str:
    """Return My steps for a responder with work waiting, else the dashboard."""
    if has_permission(person, Permission.RESPOND) and waiting_count(person):
        return url_for("incidents.my_steps")
    return url_for("executive.dashboard")
