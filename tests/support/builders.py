"""Test data for escalation, written straight to the models (no incident service needed).

Call these inside `with app.app_context():`; they flush but do not commit.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

from sqlalchemy import insert

from crisis import clock
from crisis.enums import StepStatus
from crisis.escalation.policy import first_escalation_at
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.playbooks.definition import EscalationLevel, EscalationPolicy, Playbook, StepDef
from crisis.playbooks.models import PlaybookVersion
from crisis.playbooks.validation import content_hash

_refs = itertools.count(1)


def policy(
    *levels: tuple[int, tuple[str, ...], tuple[str, ...]],
    repeat_every: int | None = None,
    snooze: int = 900,
) -> EscalationPolicy:
    """Build a policy from (minutes after due, notify targets, channels) triples."""
    return EscalationPolicy(
        levels=tuple(
            EscalationLevel(after=timedelta(minutes=after), notify=notify, channels=channels)
            for after, notify, channels in levels
        ),
        repeat_every=None if repeat_every is None else timedelta(minutes=repeat_every),
        acknowledge_snooze=timedelta(seconds=snooze),
    )


DEFAULT_POLICY = policy(
    (0, ("owner",), ("in_app", "email")),
    (10, ("triage_owner", "role_lead"), ("in_app", "email", "webhook")),
    (30, ("exec_sponsor",), ("email", "webhook")),
)


def playbook_version(escalation: EscalationPolicy = DEFAULT_POLICY, key: str = "test-playbook") -> PlaybookVersion:
    """Store a playbook version with one step per role used by the tests."""
    playbook = Playbook(
        key=key,
        title="Test playbook",
        description="",
        default_severity="SEV2",
        escalation=escalation,
        steps=(
            StepDef(key="respond", title="Respond", guidance="", role="social-media-manager", due=timedelta(minutes=15)),
        ),
    )
    existing = db.session.query(PlaybookVersion).filter_by(key=key).count()
    definition = playbook.to_dict()
    version = PlaybookVersion(
        key=key, version=existing + 1, title=playbook.title,
        # As for synced files, the hash identifies the content (definition_of caches by it).
        content_hash=content_hash(f"{existing + 1}:" + json.dumps(definition, sort_keys=True, default=str)),
        definition=definition,
    )
    db.session.add(version)
    db.session.flush()
    return version


def incident(version: PlaybookVersion, *, triage_owner=None, status: str = "responding", is_drill: bool = False) -> Incident:
    number = next(_refs)
    item = Incident(
        ref=f"INC-2026-{number:04d}-{version.id}",
        title=f"Test incident {number}",
        severity="SEV2",
        status=status,
        playbook_version_id=version.id,
        triage_owner_id=triage_owner.id if triage_owner is not None else None,
        is_drill=is_drill,
    )
    db.session.add(item)
    db.session.flush()
    return item


def step(
    item: Incident,
    *,
    key: str = "respond",
    owner=None,
    role: str = "social-media-manager",
    due_at: datetime | None = None,
    escalation: EscalationPolicy = DEFAULT_POLICY,
    status: str = StepStatus.ACTIVE.value,
) -> IncidentStep:
    """An active step due at `due_at` (default: 15 minutes from now), armed per the policy."""
    due_at = due_at or clock.now() + timedelta(minutes=15)
    row = IncidentStep(
        incident_id=item.id,
        key=key,
        title=key.replace("-", " ").capitalize(),
        role=role,
        owner_id=owner.id if owner is not None else None,
        status=status,
        activated_at=clock.now(),
        due_at=due_at,
        next_escalation_at=first_escalation_at(escalation, due_at),
    )
    db.session.add(row)
    db.session.flush()
    return row


def bulk_steps(
    version: PlaybookVersion, *, incidents: int, steps_per_incident: int, due_at: datetime,
    owner_id: int | None, escalation: EscalationPolicy = DEFAULT_POLICY, prefix: str = "BULK",
) -> list[int]:
    """Bulk-insert open incidents with active steps all due at `due_at`; return the step ids."""
    now = clock.now()
    incident_rows = [
        {
            "ref": f"INC-{prefix}-{n:06d}",
            "title": f"Bulk incident {n}",
            "summary": "",
            "severity": "SEV2",
            "status": "responding",
            "playbook_version_id": version.id,
            "declared_at": now,
            "is_drill": False,
            "triage_answers": {},
        }
        for n in range(incidents)
    ]
    incident_ids = list(
        db.session.scalars(insert(Incident).returning(Incident.id, sort_by_parameter_order=True), incident_rows)
    )
    next_at = first_escalation_at(escalation, due_at)
    step_rows = []
    for incident_id in incident_ids:
        for s in range(steps_per_incident):
            step_rows.append(
                {
                    "incident_id": incident_id,
                    "key": f"step-{s}",
                    "title": f"Step {s}",
                    "role": "social-media-manager",
                    "position": s,
                    "owner_id": owner_id,
                    "status": StepStatus.ACTIVE.value,
                    "activated_at": now,
                    "due_at": due_at,
                    "note": "",
                    "escalation_level": 0,
                    "next_escalation_at": next_at,
                }
            )
    db.session.execute(insert(IncidentStep), step_rows)
    db.session.flush()
    return list(
        db.session.scalars(
            db.select(IncidentStep.id)
            .where(IncidentStep.incident_id.between(min(incident_ids), max(incident_ids)))
            .order_by(IncidentStep.id)
        )
    )
