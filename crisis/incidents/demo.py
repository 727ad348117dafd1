"""Demo incidents: on a fresh database, two incidents under way so every page has something to show."""

from __future__ import annotations

from sqlalchemy import func, select

from crisis.extensions import db
from crisis.incidents import service
from crisis.incidents.models import Incident
from crisis.people.service import find_person
from crisis.playbooks.service import list_playbooks


def seed_demo_incidents() -> list[Incident]:
    """Declare two demo incidents (one with some progress) when none exist and playbooks are synced."""
    if db.session.scalar(select(func.count()).select_from(Incident)):
        return []
    synced = {version.key for version in list_playbooks()}
    comms, social = find_person("comms.lead@example.com"), find_person("social@example.com")
    spokesperson = find_person("spokesperson@example.com")
    if not {"viral-complaint", "wrong-price"} <= synced or None in (comms, social, spokesperson):
        return []
    viral = service.declare_incident(
        playbook_key="viral-complaint",
        title="Video of a customer's broken kettle is going viral on TikTok",
        severity="SEV2",
        declared_by=comms,
        summary="Posted this morning; 40k views and climbing. The customer says support ignored three emails.",
        links=[("tiktok", "https://www.tiktok.com/@kettle.fail/video/7301234567890123456")],
    ).incident
    service.complete_step(
        incident=viral, step_key="gather-facts", actor=comms,
        note="Archived the video and comments; the order and two support tickets are real.",
    )
    service.record_triage_answers(
        incident=viral, actor=comms, answers={"author": "unhappy_customer", "facts_wrong": "no", "spreading": "yes"}
    )
    service.acknowledge_step(incident=viral, step_key="holding-statement", actor=spokesperson)
    service.change_incident(incident=viral, actor=comms, status="responding")
    drill = service.declare_incident(
        playbook_key="wrong-price",
        title="Drill: Instagram ad shows the 65-inch TV at 9.99",
        severity="SEV3",
        declared_by=social,
        summary="A practice run of the wrong-price playbook.",
        links=[("instagram", "https://www.instagram.com/p/DEMO-wrong-price/")],
        is_drill=True,
    ).incident
    return [viral, drill]
