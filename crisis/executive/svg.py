"""Server-rendered SVG: the incident timeline chart and small bar charts. No JavaScript.

Colours come from classes in static/crisis.css (the CSP forbids inline style attributes);
every dynamic text is escaped, and each mark carries a <title> so browsers show a tooltip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from markupsafe import Markup, escape

from crisis.enums import StepStatus
from crisis.incidents.models import Incident, IncidentStep

TICK_STEPS = [
    timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)
]
INCIDENT_KINDS = ("incident.", "alert.", "review.")
# Drawn one by one, as diamonds labelled with the new value; the rest of a lane is counted per bucket.
CHANGE_KINDS = ("incident.severity_changed", "incident.status_changed")
# A mark standing for several kinds looks like the first of these it holds, else like its last event.
NOTABLE_KINDS = ("statement.published", "statement.rejected", "incident.declared")
AXIS_HEIGHT = 30
# The time axis is cut into this many buckets; a lane draws at most one mark per bucket (the
# narrow layout merges them into its own, fewer, buckets).
BUCKETS = 60


@dataclass(frozen=True)
class Layout:
    """Geometry of one rendering: wide (labels left of the bars) or narrow (labels above)."""

    name: str
    width: int
    plot_left: int
    right_pad: int
    lane_height: int
    bar_middle: int  # y of the bar's centre line within a lane
    label_baseline: int
    label_chars: int
    max_ticks: int
    buckets: int  # marks per lane at most, about 12 px apart: BUCKETS or a divisor of it


WIDE = Layout("wide", 960, 230, 24, 30, 15, 19, 34, 8, BUCKETS)
# Phones: full-width bars under their labels, readable without zooming or scrolling sideways.
NARROW = Layout("narrow", 380, 8, 14, 40, 28, 13, 56, 4, BUCKETS // 2)


@dataclass(frozen=True)
class ChartBucket:
    """The drawn events of one kind (of one step, for escalations) in one bucket of the time axis."""

    kind: str
    step: str
    index: int  # 0 to BUCKETS - 1, from the chart's start
    count: int
    first: datetime
    last: datetime
    summary: str  # the event's own summary when count is 1
    level: int  # escalations: the highest level reached


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Scale:
    start: datetime
    end: datetime
    layout: Layout

    @property
    def plot_width(self) -> float:
        return self.layout.width - self.layout.plot_left - self.layout.right_pad

    def x(self, when: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        offset = (when - self.start).total_seconds() / span
        return self.layout.plot_left + max(0.0, min(1.0, offset)) * self.plot_width


def is_late(step: IncidentStep, now: datetime) -> bool:
    """Return whether a step finished after its due time, or is still open past it."""
    if step.due_at is None or step.status == StepStatus.SKIPPED:
        return False
    if step.status == StepStatus.DONE:
        return step.completed_at is not None and step.completed_at > step.due_at
    return step.status != StepStatus.PENDING and now > step.due_at


def chart_range(
    incident: Incident, steps: Sequence[IncidentStep], now: datetime, last_event_at: datetime | None
) -> tuple[datetime, datetime]:
    """The chart's time axis: from the declaration past the last event, due time or `now`."""
    start = incident.declared_at
    ends = [start + timedelta(minutes=10)]
    if last_event_at is not None:
        ends.append(last_event_at)
    ends += [s.due_at for s in steps if s.due_at is not None and s.status != StepStatus.PENDING]
    ends += [s.completed_at for s in steps if s.completed_at is not None]
    if incident.is_open:
        ends.append(now)
    else:
        ends += [t for t in (incident.resolved_at, incident.closed_at) if t is not None]
    end = max(ends)
    return start, end + (end - start) * 0.03


def _ticks(scale: _Scale, zone: tzinfo) -> list[str]:
    span = scale.end - scale.start
    step = next((s for s in TICK_STEPS if span / s <= scale.layout.max_ticks), TICK_STEPS[-1])
    local_start = scale.start.astimezone(zone)
    # Ticks on round local times: the first multiple of the step after the start.
    midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    tick = midnight + ((local_start - midnight) // step + 1) * step
    fmt = "%d %b" if step >= timedelta(days=1) else "%H:%M"
    height = AXIS_HEIGHT
    parts = []
    while tick < scale.end:
        x = _num(scale.x(tick))
        parts.append(f'<line class="tl-grid" x1="{x}" x2="{x}" y1="{height - 6}" y2="100%"/>')
        parts.append(f'<text class="tl-tick" x="{x}" y="{height - 10}" text-anchor="middle">{tick.strftime(fmt)}</text>')
        tick += step
    return parts


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _when(at: datetime, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"  # strftime is five times slower, per mark


def timeline_chart(
    *,
    incident: Incident,
    steps: Sequence[IncidentStep],
    buckets: Sequence[ChartBucket],
    changes: Sequence[Any],
    start: datetime,
    end: datetime,
    now: datetime,
    zone: tzinfo,
) -> Markup:
    """Return the incident's timeline as two SVGs, wide and narrow; CSS shows the one that fits.

    `buckets` count the drawn events per kind and bucket of the axis from `start` to `end`
    (see chart_range); `changes` are the severity and status changes, event by event.
    """
    escalations: dict[str, list[ChartBucket]] = {}
    incident_buckets, statement_buckets = [], []
    for bucket in buckets:
        if bucket.kind == "step.escalated":
            escalations.setdefault(bucket.step, []).append(bucket)
        elif bucket.kind.startswith("statement."):
            statement_buckets.append(bucket)
        else:
            incident_buckets.append(bucket)
    # Steps that never started get no lane of their own: one line counts them, so the late
    # ones stay on the first screen.
    started = [s for s in steps if s.activated_at is not None]
    waiting = sum(1 for s in steps if s.activated_at is None and s.status != StepStatus.SKIPPED)
    not_needed = sum(1 for s in steps if s.activated_at is None and s.status == StepStatus.SKIPPED)
    summary = ", ".join(
        text for count, text in (
            (waiting, f"{waiting} step{'s' if waiting != 1 else ''} not started yet"),
            (not_needed, f"{not_needed} not needed"),
        ) if count
    )
    parts = []
    for layout in (WIDE, NARROW):
        scale = _Scale(start, end, layout)
        parts.append(
            _chart(incident, started, summary, incident_buckets, changes, statement_buckets, escalations, scale, now, zone)
        )
    return Markup("".join(parts))  # noqa: S704 - _chart escapes every dynamic text


def _chart(
    incident: Incident,
    started: Sequence[IncidentStep],
    summary: str,
    incident_buckets: Sequence[ChartBucket],
    changes: Sequence[Any],
    statement_buckets: Sequence[ChartBucket],
    escalations: dict[str, list[ChartBucket]],
    scale: _Scale,
    now: datetime,
    zone: tzinfo,
) -> str:
    layout = scale.layout
    lanes = 2 + len(started) + (1 if summary else 0)
    height = AXIS_HEIGHT + lanes * layout.lane_height + 8
    title_id = f"tl-chart-title-{layout.name}"
    out = [
        f'<svg class="tl-chart tl-{layout.name}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {layout.width} {height}" width="{layout.width}" height="{height}" role="img" '
        f'aria-labelledby="{title_id}">',
        f'<title id="{title_id}">Timeline of {escape(incident.ref)}: steps due against done, '
        "escalations, severity and status changes, statements</title>",
    ]
    out += _ticks(scale, zone)
    y = AXIS_HEIGHT
    out += _marker_lane("Incident", incident_buckets, changes, y, scale, zone)
    y += layout.lane_height
    out += _marker_lane("Statements", statement_buckets, (), y, scale, zone)
    y += layout.lane_height
    for step in started:
        out += _step_lane(step, escalations.get(step.key, []), y, scale, now, zone)
        y += layout.lane_height
    if summary:
        out.append(f'<text class="tl-pending" x="6" y="{_num(y + layout.label_baseline)}">+ {escape(summary)}</text>')
    if incident.is_open:
        x = _num(scale.x(now))
        out.append(f'<line class="tl-now" x1="{x}" x2="{x}" y1="{AXIS_HEIGHT - 6}" y2="{height}">{_title("Now")}</line>')
        anchor = "end" if layout is NARROW else "middle"
        out.append(f'<text class="tl-now-label" x="{x}" y="10" text-anchor="{anchor}">now</text>')
    out.append("</svg>")
    return "".join(out)


def _lane_label(text: str, y: float, layout: Layout, css: str = "tl-label") -> str:
    return (
        f'<text class="{css}" x="6" y="{_num(y + layout.label_baseline)}">'
        f"{escape(_clip(text, layout.label_chars))}</text>"
    )


def _merged(buckets: Sequence[ChartBucket], layout: Layout) -> list[list[ChartBucket]]:
    """Group a lane's buckets into this layout's (the narrow one has fewer, wider buckets)."""
    groups: dict[int, list[ChartBucket]] = {}
    for bucket in buckets:
        groups.setdefault(bucket.index * layout.buckets // BUCKETS, []).append(bucket)
    return list(groups.values())


def _by_bucket(events: Sequence[Any], scale: _Scale) -> list[list[Any]]:
    """Group events (oldest first) by this layout's bucket of the time axis."""
    span = (scale.end - scale.start).total_seconds() or 1.0
    groups: dict[int, list[Any]] = {}
    for event in events:
        index = int((event.at - scale.start).total_seconds() / span * scale.layout.buckets)
        groups.setdefault(max(0, min(index, scale.layout.buckets - 1)), []).append(event)
    return list(groups.values())


def _middle(group: Sequence[ChartBucket]) -> tuple[datetime, datetime, datetime]:
    """The first and last time of a group of buckets, and the time half-way, where its mark goes."""
    first, last = min(b.first for b in group), max(b.last for b in group)
    return first, last, first + (last - first) / 2


def _kind_words(kind: str) -> str:
    return kind.replace(".", " ").replace("_", " ")


def _span(first: datetime, last: datetime, zone: tzinfo) -> str:
    """'14:02', or '14:02–14:40' when the events span more than one minute."""
    start, end = _when(first, zone), _when(last, zone)
    return start if start == end else f"{start}–{end}"


def _bucket_title(group: Sequence[ChartBucket], zone: tzinfo) -> str:
    """One event's time and summary; for more, the time span and how many of each kind."""
    first, last, _ = _middle(group)
    if len(group) == 1 and group[0].count == 1:
        return _title(f"{_when(first, zone)} {group[0].summary}")
    per_kind: Counter[str] = Counter()
    for bucket in group:
        per_kind[bucket.kind] += bucket.count
    lines = [f"{_span(first, last, zone)}: {sum(per_kind.values())} events"]
    lines += [f"{count} × {_kind_words(kind)}" for kind, count in per_kind.most_common()]
    return _title("\n".join(lines))


def _changes_title(group: Sequence[Any], zone: tzinfo) -> str:
    lines = [f"{_when(e.at, zone)} {e.summary}" for e in group[:5]]
    if len(group) > 5:
        lines.append(f"… and {len(group) - 5} more")
    return _title("\n".join(lines))


def _marker_lane(
    label: str, buckets: Sequence[ChartBucket], changes: Sequence[Any], y: float, scale: _Scale, zone: tzinfo
) -> list[str]:
    layout = scale.layout
    middle = y + layout.bar_middle
    parts = [
        f'<line class="tl-lane" x1="{layout.plot_left}" x2="{layout.width - layout.right_pad}" '
        f'y1="{_num(middle)}" y2="{_num(middle)}"/>',
        _lane_label(label, y, layout, "tl-label tl-label-strong"),
    ]
    for group in _merged(buckets, layout):
        kinds = {b.kind for b in group}
        kind = next((k for k in NOTABLE_KINDS if k in kinds), max(group, key=lambda b: b.last).kind)
        x = _num(scale.x(_middle(group)[2]))
        css = "tl-mark tl-" + kind.replace(".", "-").replace("_", "-")
        parts.append(f'<circle class="{css}" cx="{x}" cy="{_num(middle)}" r="5">{_bucket_title(group, zone)}</circle>')
    # Changes last, so a diamond is drawn over a busy bucket's dot.
    for group in _by_bucket(changes, scale):
        event = group[-1]
        x = scale.x(event.at)
        css = "tl-mark tl-" + event.kind.replace(".", "-").replace("_", "-")
        points = f"{_num(x)},{_num(middle - 6)} {_num(x + 6)},{_num(middle)} {_num(x)},{_num(middle + 6)} {_num(x - 6)},{_num(middle)}"
        parts.append(f'<polygon class="{css}" points="{points}">{_changes_title(group, zone)}</polygon>')
        text = _clip(_changed_to(group), 20)
        if text:
            # Centred over its diamond, yet inside the chart and clear of the lane's name (on phones
            # the name sits above the line, where the text goes): about 6 px a character at 10 px.
            half = len(text) * 3
            left = (6 + len(label) * 7 + 8 if layout is NARROW else layout.plot_left) + half
            tx = min(max(x, left), layout.width - layout.right_pad - half)
            parts.append(
                f'<text class="tl-mark-label" x="{_num(tx)}" y="{_num(middle - 9)}" text-anchor="middle">{escape(text)}</text>'
            )
    return parts


def _changed_to(group: Sequence[Any]) -> str:
    """What a group of changes left the incident at: the last new severity and status ('SEV1 · responding')."""
    last = {e.kind: e.data.get("after") for e in group if isinstance(e.data, dict) and e.data.get("after")}
    return " · ".join(str(last[kind]) for kind in CHANGE_KINDS if kind in last)


def _step_lane(
    step: IncidentStep, escalations: Sequence[ChartBucket], y: float, scale: _Scale, now: datetime, zone: tzinfo
) -> list[str]:
    layout = scale.layout
    middle = y + layout.bar_middle
    late = is_late(step, now)
    label_css = "tl-label tl-label-late" if late else "tl-label"
    parts = [_lane_label(("⚠ " if late else "") + step.title, y, layout, label_css)]
    if step.activated_at is None:
        return parts
    finished_at = step.completed_at if step.status in (StepStatus.DONE, StepStatus.SKIPPED) else None
    bar_end = finished_at or now
    x0, x1 = scale.x(step.activated_at), scale.x(bar_end)
    owner = step.owner.name if step.owner is not None else "unassigned"
    tip = f"{step.title} · {step.status} · {owner}"
    if step.due_at is not None:
        tip += f" · due {_when(step.due_at, zone)}"
    if finished_at is not None:
        tip += f" · {step.status} {_when(finished_at, zone)}"
    parts.append(
        f'<rect class="tl-bar tl-bar-{escape(step.status)}" x="{_num(x0)}" y="{_num(middle - 6)}" '
        f'width="{_num(max(x1 - x0, 2))}" height="12" rx="3">{_title(tip)}</rect>'
    )
    if late and step.due_at is not None:
        xl = scale.x(step.due_at)
        parts.append(
            f'<rect class="tl-late" x="{_num(xl)}" y="{_num(middle - 6)}" width="{_num(max(x1 - xl, 2))}" '
            f'height="12" rx="3">{_title(f"Late: due {_when(step.due_at, zone)}")}</rect>'
        )
    if step.due_at is not None:
        xd = _num(scale.x(step.due_at))
        parts.append(
            f'<line class="tl-due" x1="{xd}" x2="{xd}" y1="{_num(middle - 11)}" y2="{_num(middle + 11)}">'
            f"{_title(f'Due {_when(step.due_at, zone)}')}</line>"
        )
    if finished_at is not None and step.status == StepStatus.DONE:
        parts.append(
            f'<circle class="tl-done" cx="{_num(x1)}" cy="{_num(middle)}" r="4">'
            f"{_title(f'Done {_when(finished_at, zone)}')}</circle>"
        )
    for group in _merged(escalations, layout):
        first, last, when = _middle(group)
        count, level = sum(b.count for b in group), max(b.level for b in group)
        if count == 1:
            tip = f"{_when(first, zone)} escalated to level {level}: {group[0].summary}"
        else:
            tip = f"{_span(first, last, zone)}: {count} escalations, up to level {level}"
        x = scale.x(when)
        points = f"{_num(x)},{_num(middle - 13)} {_num(x + 5)},{_num(middle - 5)} {_num(x - 5)},{_num(middle - 5)}"
        parts.append(f'<polygon class="tl-escalation" points="{points}">{_title(tip)}</polygon>')
    return parts


def bar_chart(*, title: str, items: Sequence[tuple[str, float | None, str]], css: str = "") -> Markup:
    """Return a small horizontal bar chart; items are (label, value or None, value as text)."""
    row, label_w, width = 24, 120, 420
    bar_w = width - label_w - 90
    height = 26 + row * max(len(items), 1)
    peak = max((v for _, v, _ in items if v is not None), default=0) or 1
    out = [
        f'<svg class="bar-chart {escape(css)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text class="bc-title" x="0" y="14">{escape(title)}</text>',
    ]
    for index, (label, value, text) in enumerate(items):
        y = 24 + index * row
        out.append(f'<text class="bc-label" x="0" y="{y + 14}">{escape(_clip(label, 18))}</text>')
        if value is not None:
            w = max(bar_w * value / peak, 2)
            out.append(
                f'<rect class="bc-bar" x="{label_w}" y="{y + 3}" width="{_num(w)}" height="14" rx="2">'
                f"{_title(f'{label}: {text}')}</rect>"
            )
            out.append(f'<text class="bc-value" x="{_num(label_w + w + 6)}" y="{y + 14}">{escape(text)}</text>')
        else:
            out.append(f'<text class="bc-value bc-none" x="{label_w}" y="{y + 14}">no data</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every dynamic text above goes through escape()
