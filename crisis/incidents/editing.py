"""Correcting an incident after declaring it: its title, summary and source links.

Kept apart from the lifecycle changes (severity, status, triage owner): these change no clock
and no step, only what people read. Each changed field is one timeline event.
"""

from __future__ import annotations

from collections.abc import Sequence

from crisis.errors import Forbidden, InvalidInput
from crisis.extensions import db
from crisis.incidents.changes import lock_incident
from crisis.incidents.checks import MAX_SUMMARY, check_links, check_title
from crisis.incidents.models import Incident, IncidentLink
from crisis.people.models import Person
from crisis.permissions import can_manage_incident
from crisis.timeline.service import record


def edit_incident(
    *,
    incident: Incident,
    actor: Person,
    title: str | None = None,
    summary: str | None = None,
    links: Sequence[tuple[str, str]] | None = None,
) -> list[str]:
    """Correct the title, summary and/or source links; return the names of the fields that changed."""
    if title is None and summary is None and links is None:
        raise InvalidInput("Nothing to change: give a title, a summary or the links.", field="body")
    new_title = check_title(title) if title is not None else None
    new_summary = (summary or "").strip() if summary is not None else None
    if new_summary is not None and len(new_summary) > MAX_SUMMARY:
        raise InvalidInput(f"The summary can be at most {MAX_SUMMARY} characters.", field="summary")
    new_links = check_links(links) if links is not None else None
    if not can_manage_incident(actor, incident):
        raise Forbidden(
            "Only the triage owner, the person who declared it, a triage or comms lead, or an admin may edit "
            "an incident.", field="incident",
        )
    lock_incident(incident)
    changed: list[str] = []
    if new_title is not None and new_title != incident.title:
        before, incident.title = incident.title, new_title
        _record(incident, actor, "title", before, new_title, f"{actor.name} changed the title to “{new_title}”")
        changed.append("title")
    if new_summary is not None and new_summary != (incident.summary or ""):
        before, incident.summary = incident.summary or "", new_summary
        _record(incident, actor, "summary", before, new_summary, f"{actor.name} rewrote the summary")
        changed.append("summary")
    if new_links is not None:
        before_links = [{"platform": link.platform, "url": link.url} for link in incident.links]
        after_links = [{"platform": link.platform, "url": link.url} for link in new_links]
        if before_links != after_links:
            _replace_links(incident, new_links)
            _record(incident, actor, "links", before_links, after_links,
                    f"{actor.name} changed the source links ({len(after_links)} now)")
            changed.append("links")
    db.session.flush()
    return changed


def _replace_links(incident: Incident, new_links) -> None:
    # Rows are updated in place where they can be, extra rows added and surplus ones removed.
    existing = list(incident.links)
    for row, link in zip(existing, new_links, strict=False):
        row.platform, row.url = link.platform, link.url
    for row in existing[len(new_links):]:
        incident.links.remove(row)
        db.session.delete(row)
    for link in new_links[len(existing):]:
        incident.links.append(IncidentLink(platform=link.platform, url=link.url))


def _record(incident: Incident, actor: Person, field: str, before, after, summary: str) -> None:
    record(
        incident_id=incident.id, kind="incident.edited", actor=actor, summary=summary,
        data={"field": field, "from": before, "to": after},
    )
