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


def run_readiness_sweep(*, injects: bool = True, reminders: bool = True) -> ReadinessSweep:
    """Run one readiness sweep and commit; every write is claimed or keyed, so schedulers may race.

    The scheduler posts injects every sweep interval but sends reminders (about days, not
    seconds) once a minute, in a job of their own.
    """
    now = clock.now()
    posted = post_due_injects(now=now) if injects else 0
    db.session.commit()
    if not reminders:
        return ReadinessSweep(injects=posted, reminders=0)
    sent = send_expiry_reminders(now=now)
    db.session.commit()
    sent += send_policy_reminders(now=now)
    db.session.commit()
    sent += send_assignment_reminders(now=now)
    db.session.commit()
    return ReadinessSweep(injects=posted, reminders=sent)
