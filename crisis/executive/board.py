"""The dashboard: open incidents by severity with their figures, and the recently resolved.

Figures follow the definitions of crisis.executive.metrics. The board reads only what it shows:
one windowed statement numbers and sums the open incidents, and only the rows shown (and the
recently resolved) leave the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select

from crisis import clock
from crisis.enums import OPEN_STATUSES, SEVERITIES, IncidentStatus, StepStatus
from crisis.errors import InvalidInput
from crisis.executive.sql import STARTED_UNFINISHED, UNFINISHED, ack_time, first_response, since
from crisis.extensions import db
from crisis.incidents.models import Incident, IncidentStep
from crisis.people.models import Person
from crisis.playbooks.models import PlaybookVersion
from crisis.reviews.models import PostIncidentReview
from crisis.statements.models import Statement


@dataclass(slots=True)
class BoardRow:
    """One incident on the dashboard, with its figures (plain values: 1,000 rows load fast)."""

    ref: str
    title: str
    severity: str
    status: str
    declared_at: datetime
    resolved_at: datetime | None
    is_drill: bool
    triage_owner_name: str | None
    playbook_key: str
    playbook_title: str
    steps_total: int
    steps_done: int
    steps_overdue: int
    escalation_level: int
    next_due_at: datetime | None
    first_ack_at: datetime | None
    first_response_at: datetime | None
    has_review: bool = False
    # The latest statement published on the incident: (platform, body, published_at).
    said: tuple[str, str, datetime] | None = None
    # The steps running past their due time: (title, owner's name or None), most overdue first.
    late_steps: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def time_to_ack(self) -> timedelta | None:
        return since(self.declared_at, self.first_ack_at)

    @property
    def time_to_response(self) -> timedelta | None:
        return since(self.declared_at, self.first_response_at)

    @property
    def time_to_resolve(self) -> timedelta | None:
        return since(self.declared_at, self.resolved_at)


@dataclass(slots=True)
class SeveritySection:
    """One severity on the dashboard: its figures over every open incident of it, and the rows shown."""

    severity: str
    open_count: int = 0
    late_incidents: int = 0
    overdue_steps: int = 0
    escalated: int = 0
    awaiting_response: int = 0
    rows: list[BoardRow] = field(default_factory=list)
    # False when the board is busy and this severity is summed up in one line, not listed.
    listed: bool = True
    # The first row shown, counting from 1 in the most-urgent-first order.
    first: int = 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1

    @property
    def more(self) -> int:
        """How many open incidents of this severity the page does not list."""
        return self.open_count - len(self.rows) if self.listed else self.open_count


@dataclass
class Board:
    """The dashboard: open incidents by severity (all figures, the most urgent rows), the recently resolved.

    `open_rows` are the rows shown; the figures count every open incident.
    """

    open_rows: list[BoardRow]
    resolved_rows: list[BoardRow]
    now: datetime
    sections: list[SeveritySection] = field(default_factory=list)
    # The one severity listed page by page (None: the front page).
    severity: str | None = None
    page: int = 1
    page_size: int = 0

    def by_severity(self) -> list[tuple[str, list[BoardRow]]]:
        return [(section.severity, section.rows) for section in self.sections]

    @property
    def open_count(self) -> int:
        return sum(s.open_count for s in self.sections)

    @property
    def busy(self) -> bool:
        return any(not s.listed for s in self.sections)

    @property
    def overdue_total(self) -> int:
        return sum(s.overdue_steps for s in self.sections)

    @property
    def escalated_count(self) -> int:
        return sum(s.escalated for s in self.sections)

    @property
    def awaiting_response_count(self) -> int:
        return sum(s.awaiting_response for s in self.sections)

    @property
    def section(self) -> SeveritySection | None:
        """The section of the severity listed page by page."""
        return next((s for s in self.sections if s.severity == self.severity), None)

    @property
    def pages(self) -> int:
        section = self.section
        if section is None or not self.page_size:
            return 1
        return max(1, -(-section.open_count // self.page_size))


def _step_figures(now: datetime, incident_ids):
    """A subquery of per-incident step aggregates, over the steps of `incident_ids` only.

    `incident_ids` is a select of the incidents the board shows: without it the GROUP BY
    aggregated every step ever recorded (closed incidents included) on each render.
    """
    unfinished = IncidentStep.status.in_(UNFINISHED)
    started = IncidentStep.status.in_(STARTED_UNFINISHED)
    return (
        select(
            IncidentStep.incident_id.label("incident_id"),
            func.count().label("total"),
            func.sum(case((IncidentStep.status == StepStatus.DONE.value, 1), else_=0)).label("done"),
            func.sum(case((and_(started, IncidentStep.due_at < now), 1), else_=0)).label("overdue"),
            func.max(case((unfinished, IncidentStep.escalation_level), else_=0)).label("level"),
            func.min(case((started, IncidentStep.due_at), else_=None)).label("next_due"),
            func.min(ack_time()).label("first_ack"),
        )
        .where(IncidentStep.incident_id.in_(incident_ids))
        .group_by(IncidentStep.incident_id)
        .subquery()
    )


def _board_query(now: datetime, incident_ids):
    steps = _step_figures(now, incident_ids)
    return (
        select(
            Incident.ref,
            Incident.title,
            Incident.severity,
            Incident.status,
            Incident.declared_at,
            Incident.resolved_at,
            Incident.is_drill,
            Person.name,
            PlaybookVersion.key,
            PlaybookVersion.title,
            func.coalesce(steps.c.total, 0),
            func.coalesce(steps.c.done, 0),
            func.coalesce(steps.c.overdue, 0),
            func.coalesce(steps.c.level, 0),
            steps.c.next_due,
            steps.c.first_ack,
            first_response().label("first_response"),
            PostIncidentReview.id.is_not(None),
        )
        .join(PlaybookVersion, PlaybookVersion.id == Incident.playbook_version_id)
        .outerjoin(Person, Person.id == Incident.triage_owner_id)
        .outerjoin(steps, steps.c.incident_id == Incident.id)
        .outerjoin(PostIncidentReview, PostIncidentReview.incident_id == Incident.id)
    )


def _rows(result: Iterable) -> list[BoardRow]:
    rows = []
    for values in result:
        row = BoardRow(*values)
        for name in ("steps_total", "steps_done", "steps_overdue", "escalation_level"):
            setattr(row, name, int(getattr(row, name)))
        row.has_review = bool(row.has_review)
        rows.append(row)
    return rows


# The front page lists at most this many open incidents of each of the highest severities...
FRONT_LIMIT = 25
HIGH_SEVERITIES = ("SEV1", "SEV2")
# ...and everything while the whole board is this small; past it the lower severities are
# summed up in one line each, listed page by page on their own.
QUIET_LIMIT = 25
PAGE_SIZE = 50
BOARD_COLUMNS = 18


def _open_query(now: datetime, *, severity: str | None, page: int, page_size: int):
    """The open incidents to show, each carrying its severity's figures over every open incident.

    Window functions number each severity's incidents most urgent first (highest escalation,
    most steps overdue, oldest) and sum the severity's figures in the same statement, so the
    tiles and headings count everything while only the rows shown leave the database.
    """
    open_filter = Incident.status.in_([s.value for s in OPEN_STATUSES])
    inner = _board_query(now, select(Incident.id).where(open_filter)).where(open_filter).add_columns(Incident.id).subquery()
    c = list(inner.c)
    overdue, level, first_response, declared_at, incident_id = c[12], c[13], c[16], c[4], c[BOARD_COLUMNS]
    sev = c[2]
    by_severity = {"partition_by": sev}
    ranked = select(
        *c[:BOARD_COLUMNS],
        func.row_number().over(partition_by=sev, order_by=(level.desc(), overdue.desc(), declared_at, incident_id)).label("rn"),
        func.count().over(**by_severity).label("sev_open"),
        func.sum(case((overdue > 0, 1), else_=0)).over(**by_severity).label("sev_late"),
        func.sum(overdue).over(**by_severity).label("sev_overdue"),
        func.sum(case((level > 0, 1), else_=0)).over(**by_severity).label("sev_escalated"),
        func.sum(case((first_response.is_(None), 1), else_=0)).over(**by_severity).label("sev_awaiting"),
        func.count().over().label("all_open"),
    ).subquery()
    r = ranked.c
    if severity is None:
        # The first row of every severity carries its figures even when the severity is not listed.
        front = case((r.severity.in_(HIGH_SEVERITIES), FRONT_LIMIT), else_=1)
        shown = (r.rn <= front) | (r.all_open <= QUIET_LIMIT)
    else:
        first = (page - 1) * page_size
        shown = (r.rn == 1) | ((r.severity == severity) & (r.rn > first) & (r.rn <= first + page_size))
    severity_order = case({s: index for index, s in enumerate(SEVERITIES)}, value=r.severity, else_=9)
    return select(ranked).where(shown).order_by(severity_order, r.rn)


def _sections(result: Iterable, *, severity: str | None, page: int, page_size: int) -> list[SeveritySection]:
    sections = {sev: SeveritySection(sev) for sev in SEVERITIES}
    for values in result:
        row = _rows([values[:BOARD_COLUMNS]])[0]
        rn, sev_open, late, overdue, escalated, awaiting, all_open = (int(v or 0) for v in values[BOARD_COLUMNS:])
        section = sections.setdefault(row.severity, SeveritySection(row.severity))
        if rn == 1:
            section.open_count, section.late_incidents, section.overdue_steps = sev_open, late, overdue
            section.escalated, section.awaiting_response = escalated, awaiting
        if severity is None:
            section.listed = row.severity in HIGH_SEVERITIES or all_open <= QUIET_LIMIT
        else:
            section.listed = row.severity == severity
            section.first = (page - 1) * page_size + 1
        if section.listed and (severity is None or section.first <= rn):
            section.rows.append(row)
    return [s for s in sections.values() if s.open_count or s.severity in SEVERITIES]


MAX_PAGE = 10_000


def check_board_args(severity: str | None, page: str | None) -> dict:
    """Return load_board's `severity` and `page` from text, or raise InvalidInput naming the field."""
    severity = (severity or "").strip().upper() or None
    if severity is not None and severity not in SEVERITIES:
        raise InvalidInput(f"Choose a severity from {SEVERITIES[0]} to {SEVERITIES[-1]} to list", field="severity")
    text = (page or "").strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE or (severity is None and text != "1"):
        raise InvalidInput("The page number must be a whole number from 1, with a severity to list", field="page")
    return {"severity": severity, "page": int(text)}


def load_board(
    *, recent_limit: int = 10, now: datetime | None = None, severity: str | None = None, page: int = 1,
    page_size: int | None = None,
) -> Board:
    """Return the open incidents to show with every open incident's figures, and the recently resolved.

    The front page (`severity` None) lists the highest severities' most urgent incidents and,
    while the board is small, every other one; with `severity`, that severity's incidents
    are listed `page_size` at a time, most urgent first.
    """
    now = now or clock.now()
    page_size = page_size or PAGE_SIZE
    sections = _sections(
        db.session.execute(_open_query(now, severity=severity, page=page, page_size=page_size)),
        severity=severity, page=page, page_size=page_size,
    )
    open_rows = [row for section in sections for row in section.rows]
    recently_resolved = (
        select(Incident.id)
        .where(Incident.status.in_([IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value]))
        .where(Incident.resolved_at.is_not(None))
        .order_by(Incident.resolved_at.desc(), Incident.id.desc())
        .limit(recent_limit)
    )
    # The outer query joins only the few it lists: filtered by status alone, PostgreSQL joined
    # every closed incident ever before keeping the newest.
    resolved_query = (
        _board_query(now, recently_resolved)
        .where(Incident.id.in_(recently_resolved))
        .order_by(Incident.resolved_at.desc(), Incident.id.desc())
        .limit(recent_limit)
    )
    _attach_latest_statements(open_rows)
    _attach_late_steps(open_rows, now)
    return Board(
        open_rows=open_rows,
        resolved_rows=_rows(db.session.execute(resolved_query)) if severity is None else [],
        now=now,
        sections=sections,
        severity=severity,
        page=page,
        page_size=page_size,
    )


def _attach_latest_statements(rows: Sequence[BoardRow]) -> None:
    """Give each incident shown its latest published statement, in one query for all of them."""
    if not rows:
        return
    by_ref = {row.ref: row for row in rows}
    query = (
        select(Incident.ref, Statement.platform, Statement.body, Statement.published_at)
        .join(Incident, Incident.id == Statement.incident_id)
        .where(Incident.ref.in_(list(by_ref)), Statement.published_at.is_not(None))
        .order_by(Statement.published_at, Statement.id)
    )
    for ref, platform, body, published_at in db.session.execute(query):
        if ref in by_ref:
            by_ref[ref].said = (platform, body, published_at)


def _attach_late_steps(rows: Sequence[BoardRow], now: datetime) -> None:
    """Give each incident shown its overdue steps and their owners, in one query for all of them."""
    if not any(row.steps_overdue for row in rows):
        return
    by_ref = {row.ref: row for row in rows}
    steps, incidents, people = IncidentStep.__table__.c, Incident.__table__.c, Person.__table__.c
    # Plain strings only, on the tables: thousands of late steps cost a few milliseconds.
    query = (
        select(incidents.ref, steps.title, people.name)
        .select_from(
            IncidentStep.__table__.join(Incident.__table__, incidents.id == steps.incident_id).outerjoin(
                Person.__table__, people.id == steps.owner_id
            )
        )
        .where(
            incidents.ref.in_(list(by_ref)),
            steps.status.in_(STARTED_UNFINISHED),
            steps.due_at < now,
        )
        .order_by(steps.due_at, steps.id)
    )
    for ref, title, owner in db.session.connection().execute(query):
        row = by_ref.get(ref)
        if row is not None:
            row.late_steps.append((title, owner))
