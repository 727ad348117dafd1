"""The readiness sweep: post drill injects that fell due; remind of lapsing training, the unread policy
and training assignments falling due."""

from __future__ import annotations

from dataclasses import dataclass

from crisis import clock
from crisis.drills.service import post_due_injects
from crisis.extensions import db
from crisis.policy.service import send_policy_reminders
from crisis.training.assignments import send_assignment_reminders
from crisis.training.service import send_expiry_reminders


@dataclass
class ReadinessSweep:
    injects: int
    reminders: int


def run_readiness_sweep() -> ReadinessSweep:
    """Run one readiness sweep and commit; every write is claimed, so schedulers may race."""
    now = clock.now()
    injects = post_due_injects(now=now)
    db.session.commit()
    reminders = send_expiry_reminders(now=now)
    db.session.commit()
    reminders += send_policy_reminders(now=now)
    db.session.commit()
    reminders += send_assignment_reminders(now=now)
    db.session.commit()
    return ReadinessSweep(injects=injects, reminders=reminders)
