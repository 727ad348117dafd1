"""The company's training maturity on four dimensions (casual → structured → formal).

The rule, computed from crisis's own data (the README repeats it):

- content (what is taught): formal when every response role a current playbook names is
  covered by a course and a policy is published; structured when at least half are and a
  policy is published; else casual.
- delivery (how it is delivered): formal when training was recorded in the last 365 days and
  people practised in a drill in the last 90 days; structured when either happened in the
  last 365 days; else casual.
- participants (who is trained): of the active people on the roster of a role some course
  covers, the share trained for all such roles. Formal when that is at least 90% and 90% of
  active people acknowledged the policy in force; structured when it is at least 50%; else
  casual.
- measurement (completion, recency, drill results): formal when one scenario was run and
  scored (ended) at least twice in the last 365 days, so runs are compared; structured when
  any drill was scored in the last 365 days; else casual.

The overall level is the lowest of the four.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from crisis import clock
from crisis.drills.models import DrillRun
from crisis.extensions import db
from crisis.playbooks.service import definition_of, list_playbooks
from crisis.policy.service import acknowledged_share, current_policy
from crisis.readiness.board import role_readiness
from crisis.training.courses import courses
from crisis.training.models import TrainingCompletion

LEVELS = ("casual", "structured", "formal")
YEAR = timedelta(days=365)
QUARTER = timedelta(days=90)


@dataclass(frozen=True)
class Dimension:
    name: str
    level: str
    why: str


def maturity(*, now: datetime | None = None) -> tuple[str, list[Dimension]]:
    """Return the overall level and each dimension's level with the figures behind it."""
    now = now or clock.now()
    dimensions = [_content(), _delivery(now), _participants(now), _measurement(now)]
    overall = LEVELS[min(LEVELS.index(d.level) for d in dimensions)]
    return overall, dimensions


def _content() -> Dimension:
    needed = {step.role for version in list_playbooks() for step in definition_of(version).steps}
    covered = needed & {role for course in courses().values() for role in course.roles}
    policy = current_policy() is not None
    share = len(covered) / len(needed) if needed else 0.0
    level = "formal" if share == 1 and policy else "structured" if share >= 0.5 and policy else "casual"
    return Dimension("content", level, f"{len(covered)} of {len(needed)} playbook roles have a course; "
                     + ("a policy is published" if policy else "no policy published"))


def _delivery(now: datetime) -> Dimension:
    sources = Counter(db.session.scalars(
        select(TrainingCompletion.source).where(TrainingCompletion.completed_at >= now - YEAR)
    ))
    recorded = sum(n for source, n in sources.items() if source != "drill")
    practised_recently = db.session.scalar(
        select(TrainingCompletion.id).where(TrainingCompletion.source == "drill",
                                            TrainingCompletion.completed_at >= now - QUARTER).limit(1)
    ) is not None
    level = ("formal" if recorded and practised_recently
             else "structured" if recorded or sources.get("drill") else "casual")
    return Dimension("delivery", level, f"{recorded} completions recorded and {sources.get('drill', 0)} "
                     "practised in drills in the last year")


def _participants(now: datetime) -> Dimension:
    trained: dict[int, bool] = {}
    for role in role_readiness(now=now):
        if not role.courses:
            continue  # nobody can be trained for a role no course covers
        for holder in role.holders:
            if holder.person.active:
                trained[holder.person.id] = trained.get(holder.person.id, True) and holder.trained
    share = sum(trained.values()) / len(trained) if trained else 0.0
    acknowledged = acknowledged_share(version=current_policy())
    level = "formal" if share >= 0.9 and acknowledged >= 0.9 else "structured" if share >= 0.5 else "casual"
    return Dimension("participants", level, f"{round(share * 100)}% of people on trained roles' rosters trained; "
                     f"{round(acknowledged * 100)}% acknowledged the policy")


def _measurement(now: datetime) -> Dimension:
    scored = Counter(db.session.scalars(
        select(DrillRun.scenario_key).where(DrillRun.ended_at.is_not(None), DrillRun.started_at >= now - YEAR)
    ))
    level = "formal" if any(n >= 2 for n in scored.values()) else "structured" if scored else "casual"
    total = sum(scored.values())
    return Dimension("measurement", level, f"{total} drill{'' if total == 1 else 's'} scored in the last year"
                     + (f", {max(scored.values())} of one scenario" if total else ""))
