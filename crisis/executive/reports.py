"""Exports: the incident report as Markdown, the timeline as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from crisis.clock import humanize_delta
from crisis.executive.service import EventRow, IncidentView
from crisis.executive.svg import is_late
from crisis.incidents.schemas import EventOut

CSV_COLUMNS = ("at", "kind", "actor", "summary", "step", "data")
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def timeline_csv(events: Sequence[EventRow]) -> str:
    """Return the events as CSV (UTC ISO-8601 times), formula-looking cells defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        writer.writerow(
            [
                event.at.isoformat(),
                event.kind,
                _cell(event.actor_name),
                _cell(event.summary),
                _cell(str(data.get("step", ""))),
                json.dumps(data, sort_keys=True, ensure_ascii=False),
            ]
        )
    return buffer.getvalue()


def timeline_json(view: IncidentView, events: Sequence[EventRow]) -> dict[str, Any]:
    """Return the API shape {incident, events: [{at, kind, actor, summary, data}]}, oldest first."""
    return {"incident": view.incident.ref, "events": [EventOut.of(e).model_dump() for e in events]}


def _md(text: str | None) -> str:
    """Escape text for a Markdown table cell or line (no raw HTML, no pipes breaking cells)."""
    value = (text or "").replace("\r", "").replace("\n", " ").strip()
    for char in "\\`*_[]<>|#":
        value = value.replace(char, "\\" + char)
    return value or "—"


def _block(text: str | None) -> str:
    """Escape multi-line free text as Markdown paragraphs (the text is shown, not interpreted)."""
    lines = [_md(line) if line.strip() else "" for line in (text or "").replace("\r", "").split("\n")]
    return "\n".join(lines).strip() or "—"


def _span(delta: timedelta | None) -> str:
    return humanize_delta(delta) if delta is not None else "not yet"


def _at(value: datetime | None, zone: tzinfo) -> str:
    return value.astimezone(zone).strftime("%d %b %Y %H:%M %Z") if value is not None else "—"


def report_markdown(view: IncidentView, *, zone: tzinfo) -> str:
    """Return the incident report: facts, figures, steps, public statements, review, timeline."""
    incident, figures = view.incident, view.figures
    version = incident.playbook_version
    out = [f"# {incident.ref} — {_md(incident.title)}", ""]
    if incident.is_drill:
        out += ["> **Drill** — a training exercise, not a real incident.", ""]
    out += [
        f"- **Severity:** {incident.severity}",
        f"- **Status:** {incident.status}",
        f"- **Playbook:** {_md(version.title)} (`{version.key}` v{version.version})",
        f"- **Triage owner:** {_md(incident.triage_owner.name) if incident.triage_owner else 'none'}",
        f"- **Declared:** {_at(incident.declared_at, zone)}",
        f"- **Resolved:** {_at(incident.resolved_at, zone)}",
        f"- **Report generated:** {_at(view.now, zone)}",
        "",
    ]
    if incident.summary.strip():
        out += ["## Summary", "", _block(incident.summary), ""]
    on_time = f"{figures.steps_on_time} of {figures.steps_due}" if figures.steps_due else "no step fell due yet"
    out += [
        "## Response figures",
        "",
        "| measure | value |",
        "|---|---|",
        f"| Time to first acknowledgement | {_span(figures.time_to_ack)} |",
        f"| Time to holding statement (first public response) | {_span(figures.time_to_response)} |",
        f"| Time to resolve | {_span(figures.time_to_resolve)} |",
        f"| Steps done on time | {on_time} |",
        f"| Late steps | {figures.steps_late} |",
        f"| Escalations | {figures.escalations} (highest level {figures.highest_level}) |",
        "",
        "## Steps",
        "",
        "| step | role | owner | status | due | done | late |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in view.steps:
        owner = _md(step.owner.name) if step.owner else "unassigned"
        late = "**late**" if is_late(step, view.now) else ""
        out.append(
            f"| {_md(step.title)} | {_md(step.role)} | {owner} | {step.status} | {_at(step.due_at, zone)} | "
            f"{_at(step.completed_at, zone)} | {late} |"
        )
    out += ["", "## What we said in public", ""]
    if view.statements:
        for statement in view.statements:
            where = _md(statement.platform)
            link = statement.published_url
            safe = link.startswith(("http://", "https://")) and not any(c in link for c in "<> \n")
            url = f" — <{link}>" if safe else ""
            out += [f"### {where}, {_at(statement.published_at, zone)}{url}", "", _block(statement.body), ""]
    else:
        out += ["Nothing published yet.", ""]
    out += ["## Post-incident review", ""]
    review = view.review
    if review is None:
        out += ["Not written yet.", ""]
    else:
        for heading, text in (
            ("What happened", review.what_happened),
            ("What went well", review.went_well),
            ("What to change", review.to_change),
            ("Training needs", review.training_needs),
        ):
            out += [f"### {heading}", "", _block(text), ""]
        out += ["### Follow-up actions", ""]
        if review.actions:
            out += ["| action | owner | due |", "|---|---|---|"]
            out += [f"| {_md(a.description)} | {_md(a.owner.name)} | {a.due_on.isoformat()} |" for a in review.actions]
        else:
            out.append("None.")
        out.append("")
    out += ["## Timeline", ""]
    for event in view.events:
        out.append(f"- {_at(event.at, zone)} · `{event.kind}` · {_md(event.summary)} ({_md(event.actor_name)})")
    out.append("")
    return "\n".join(out)
