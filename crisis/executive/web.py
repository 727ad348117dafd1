"""The executive view: dashboard, incident timeline, metrics and reports. Read-only pages."""

from __future__ import annotations

import html
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup

from crisis import clock
from crisis.errors import InvalidInput
from crisis.executive import reports
from crisis.executive.board import check_board_args, load_board
from crisis.executive.metrics import compute_metrics
from crisis.executive.service import check_kind, filter_events, load_incident_view
from crisis.executive.svg import bar_chart, timeline_chart
from crisis.executive.timeline_page import check_cursor, load_timeline_page
from crisis.live.stamps import board_stamp
from crisis.timeline.display import event_text
from crisis.web.access import permission_required
from crisis.web.formatting import humanize_delta, names_of, viewer_zone

bp = Blueprint("executive", __name__)

# How often an open incident's timeline reloads its live region (tests set it lower).
REFRESH_SECONDS = 15
DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 3 * 366
# The quick filters above the event list; any other prefix works through ?kind= too.
KIND_FILTERS = (
    ("", "All"),
    ("step.", "Steps"),
    ("step.escalated", "Escalations"),
    ("incident.", "Incident changes"),
    ("statement.", "Statements"),
    ("alert.", "Alerts"),
    ("review.", "Review"),
)


@bp.app_template_filter("span")
def span_filter(delta: timedelta | None) -> str:
    """Say a duration ('12 min'), or '—' when it has not happened."""
    return humanize_delta(delta) if delta is not None else "—"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LONG_FORMAT = "%d %b %Y %H:%M %Z"
SHORT_FORMAT = "%d %b %H:%M"


def _time_formatter():
    """Return a fast `at(value, fmt)` for long lists: the viewer's zone is looked up once.

    The two formats the pages use are built by hand; strftime costs ~5 µs a call, which is
    a quarter of the render time of a 5,000-event timeline.
    """
    zone = viewer_zone()

    def at(value: datetime | None, fmt: str = LONG_FORMAT) -> str:
        if value is None:
            return "—"
        local = value.astimezone(zone)
        if fmt == SHORT_FORMAT:
            return f"{local.day:02d} {MONTHS[local.month - 1]} {local.hour:02d}:{local.minute:02d}"
        if fmt == LONG_FORMAT:
            return f"{local.day:02d} {MONTHS[local.month - 1]} {local.year} {local.hour:02d}:{local.minute:02d} {local.tzname()}"
        return local.strftime(fmt)

    return at


def board_args() -> dict:
    """The dashboard's `severity` and `page` from the query string, checked."""
    return check_board_args(request.args.get("severity"), request.args.get("page"))


@bp.route("/dashboard")
@permission_required("view")
def dashboard():
    args = board_args()
    stamp = board_stamp()  # before the board: a change landing in between makes the next poll differ
    return render_template("executive/dashboard.html", board=load_board(**args), at=_time_formatter(), live_stamp=stamp)


@bp.route("/dashboard/live")
@permission_required("view")
def dashboard_fragment():
    return render_template("executive/_board.html", board=load_board(**board_args()), at=_time_formatter())


def _event_list(events, at, incident) -> Markup:
    """Render the event list items in one pass: 5,000 rows through Jinja's loop cost too much.

    Plain strings with html.escape: Markup arithmetic per row would double the cost. Times are
    formatted here (safe by construction); kind, summary and actor are escaped.
    """
    items = []
    zone = viewer_zone()
    names = names_of(incident)
    for event in events:
        kind = html.escape(event.kind)
        css = "ev-" + kind.partition(".")[0] + (" ev-escalated" if event.kind == "step.escalated" else "")
        items.append(
            f'<li class="{css}"><time datetime="{event.at.isoformat()}">{at(event.at, SHORT_FORMAT)}</time> '
            f'<span class="kind">{kind.replace(".", " ").replace("_", " ")}</span> {html.escape(event_text(event.summary, event.data, zone, kind=event.kind, names=names))} '
            f'<span class="muted">— {html.escape(event.actor_display or event.actor_name)}</span></li>'
        )
    return Markup("\n".join(items))  # noqa: S704 - every dynamic text above goes through html.escape()


def _timeline_context(ref: str) -> dict:
    kind = check_kind(request.args.get("kind"))
    before = check_cursor("before", request.args.get("before"))
    after = None if before is not None else check_cursor("after", request.args.get("after"))
    at = _time_formatter()
    view = load_timeline_page(ref=ref, kind=kind, before=before, after=after)
    chart = timeline_chart(
        incident=view.incident, steps=view.steps, buckets=view.chart_buckets, changes=view.chart_changes,
        start=view.chart_start, end=view.chart_end, now=view.now, zone=viewer_zone(),
    )
    return {
        "view": view,
        "incident": view.incident,
        "kind": kind,
        "events": view.events,
        "paged": before is not None or after is not None,
        "event_list": _event_list(view.events, at, view.incident),
        "chart": chart,
        "kind_filters": KIND_FILTERS,
        "refresh_seconds": current_app.config.get("TIMELINE_REFRESH_SECONDS", REFRESH_SECONDS),
    }


@bp.route("/incidents/<ref>/timeline")
@permission_required("view")
def incident_timeline(ref):
    return render_template("incidents/timeline.html", **_timeline_context(ref))


@bp.route("/incidents/<ref>/timeline/live")
@permission_required("view")
def incident_timeline_fragment(ref):
    return render_template("executive/_timeline_live.html", **_timeline_context(ref))


def _download(body: str, *, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/incidents/<ref>/timeline.csv")
@permission_required("view")
def timeline_csv(ref):
    kind = check_kind(request.args.get("kind"))
    view = load_incident_view(ref=ref)
    body = reports.timeline_csv(filter_events(view.events, kind))
    return _download(body, mimetype="text/csv", filename=f"{view.incident.ref}-timeline.csv")


@bp.route("/incidents/<ref>/timeline.json")
@permission_required("view")
def timeline_json(ref):
    kind = check_kind(request.args.get("kind"))
    view = load_incident_view(ref=ref)
    response = jsonify(reports.timeline_json(view, filter_events(view.events, kind)))
    response.headers["Content-Disposition"] = f'attachment; filename="{view.incident.ref}-timeline.json"'
    return response


@bp.route("/incidents/<ref>/report.md")
@permission_required("view")
def report_markdown(ref):
    view = load_incident_view(ref=ref)
    body = reports.report_markdown(view, zone=viewer_zone())
    return _download(body, mimetype="text/markdown", filename=f"{view.incident.ref}-report.md")


@bp.route("/incidents/<ref>/report")
@permission_required("view")
def report_page(ref):
    view = load_incident_view(ref=ref)
    body = reports.report_markdown(view, zone=viewer_zone())
    return render_template("executive/report.html", view=view, incident=view.incident, report=body)


def _parse_day(name: str, default: date) -> date:
    value = request.args.get(name, "").strip()
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date as YYYY-MM-DD, not {value!r}", field=name) from None


@bp.route("/metrics")
@permission_required("view")
def metrics():
    zone = viewer_zone()
    today = clock.now().astimezone(zone).date()
    last = _parse_day("to", today)
    first = _parse_day("from", last - timedelta(days=DEFAULT_PERIOD_DAYS - 1))
    if first > last:
        raise InvalidInput("'from' must not be after 'to'", field="from")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise InvalidInput(f"The period may span at most {MAX_PERIOD_DAYS} days", field="from")
    drills = request.args.get("drills", "") == "only"
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    figures = compute_metrics(start=start, end=end, drills=drills)

    def chart(title: str, groups, attr: str, css: str = ""):
        items = []
        for group in groups:
            value = getattr(group, attr)
            if attr == "on_time_share":
                items.append((group.label, None if value is None else value * 100, "—" if value is None else f"{value:.0%}"))
            else:
                items.append((group.label, None if value is None else value.total_seconds(), span_filter(value)))
        return bar_chart(title=title, items=items, css=css)

    charts = [
        chart("Median time to acknowledge, by severity", figures.by_severity, "median_ack"),
        chart("Median time to holding statement, by severity", figures.by_severity, "median_response"),
        chart("Median time to resolve, by severity", figures.by_severity, "median_resolve"),
        chart("Steps done on time, by severity", figures.by_severity, "on_time_share", "bc-share"),
    ]
    if figures.by_playbook:
        charts.append(chart("Steps done on time, by playbook", figures.by_playbook, "on_time_share", "bc-share"))
        charts.append(chart("Median time to acknowledge, by playbook", figures.by_playbook, "median_ack"))
    return render_template("executive/metrics.html", m=figures, first=first, last=last, charts=charts, drills=drills)
