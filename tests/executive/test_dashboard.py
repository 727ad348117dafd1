"""The dashboard: open incidents by severity with their figures, recently resolved, one query each."""

from __future__ import annotations

from datetime import timedelta

from crisis.executive.metrics import load_board
from crisis.extensions import db


def test_empty_dashboard_explains_itself(client, team, login):
    login(team.exec)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "No open incidents" in page
    assert "Nothing resolved yet" in page
    # An executive cannot declare, so the page does not offer it.
    assert "Declare an incident" not in page


def test_dashboard_figures_follow_the_response(app, client, team, login, desk, incident_factory, clock):
    from crisis.incidents.service import get_incident

    calm = incident_factory(title="Calm complaint", severity="SEV3")
    hot = incident_factory("wrong-price", title="Wrong price in the ad", severity="SEV1")
    clock.advance(minutes=4)
    desk.ack(calm, "gather-facts", team.lead)
    clock.advance(minutes=6)
    desk.publish_holding_statement(calm)
    clock.advance(minutes=30)

    with app.app_context():
        board = load_board()
        rows = {r.ref: r for r in board.open_rows}
        assert [r.ref for r in board.open_rows] == [hot, calm]  # SEV1 first
        assert rows[calm].time_to_ack == timedelta(minutes=4)
        assert rows[calm].time_to_response == timedelta(minutes=10)
        assert rows[hot].first_ack_at is None and rows[hot].first_response_at is None
        assert rows[hot].steps_overdue >= 1
        calm_steps, hot_steps = get_incident(calm).steps, get_incident(hot).steps
        assert rows[calm].steps_overdue == sum(
            1 for s in calm_steps if s.status in ("active", "blocked") and s.due_at is not None and s.due_at < board.now
        )
        assert rows[hot].next_due_at == min(s.due_at for s in hot_steps if s.status in ("active", "blocked") and s.due_at)
        assert rows[hot].triage_owner_name == "Lead" and rows[hot].playbook_key == "wrong-price"
        assert len(rows[hot].late_steps) == rows[hot].steps_overdue
        assert all(owner for _, owner in rows[hot].late_steps)

    login(team.exec)
    page = client.get("/dashboard").get_data(as_text=True)
    assert hot in page and calm in page
    assert page.index(hot) < page.index(calm)
    assert "Wrong price in the ad" in page
    assert "4 min" in page and "10 min" in page  # time to first ack, to the holding statement
    assert "We are aware and looking into it." in page  # what the company said in public
    assert 'class="late-owners"' in page and "<strong>Lead</strong>" in page  # what is late, and who owns it
    assert "late" in page
    assert "40 min" in page  # the age of both incidents


def test_escalation_level_shows_after_a_sweep(app, client, team, login, incident_factory, clock):
    from crisis.escalation.engine import run_sweep

    ref = incident_factory(severity="SEV2")
    clock.advance(minutes=20)
    with app.app_context():
        run_sweep()
        db.session.commit()
        row = next(r for r in load_board().open_rows if r.ref == ref)
        assert row.escalation_level >= 1
    login(team.exec)
    page = client.get("/dashboard").get_data(as_text=True)
    assert f"level {row.escalation_level}" in page


def test_recently_resolved_shows_time_to_resolve_and_missing_review(app, client, team, login, desk, incident_factory, clock):
    ref = incident_factory(title="Short-lived", severity="SEV2")
    clock.advance(hours=2)
    desk.resolve(ref)
    login(team.exec)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "No open incidents" in page
    resolved = page.split("Recently resolved", 1)[1]
    assert ref in resolved and "2 h" in resolved and "missing" in resolved


def test_recently_resolved_lists_the_newest_first_and_no_more_than_asked(app, desk, incident_factory, clock):
    refs = []
    for index in range(4):
        refs.append(incident_factory(title=f"Resolved {index}", severity="SEV3"))
    still_open = incident_factory(title="Still open", severity="SEV3")
    for ref in refs:
        clock.advance(minutes=10)
        desk.resolve(ref)
    with app.app_context():
        board = load_board(recent_limit=3)
    assert [row.ref for row in board.resolved_rows] == refs[:0:-1]
    assert still_open not in [row.ref for row in board.resolved_rows]
    assert all(row.resolved_at is not None for row in board.resolved_rows)


def test_dashboard_is_one_query_per_list_whatever_the_number_of_incidents(
    app, desk, incident_factory, clock, sql_statements
):
    for index in range(6):
        incident_factory(title=f"Incident {index}", severity=("SEV1", "SEV2", "SEV3")[index % 3])
    clock.advance(minutes=45)
    with app.app_context():
        sql_statements.clear()
        board = load_board()
        assert len(board.open_rows) == 6
    # Open incidents, their latest public statements, their late steps, recently resolved.
    selects = [s for s in sql_statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4, "\n\n".join(s[:300] for s in selects)


def test_live_fragment_is_the_board_alone(client, team, login, incident_factory):
    ref = incident_factory()
    login(team.exec)
    fragment = client.get("/dashboard/live")
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert ref in text and "<html" not in text
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-live-url="/live/board"' in page


def test_dashboard_needs_sign_in_and_view(client, make_person, login):
    assert client.get("/dashboard").status_code == 302
    make_person("nobody@example.com", permissions=())
    login("nobody@example.com")
    assert client.get("/dashboard").status_code == 403
    assert client.get("/metrics").status_code == 403


def test_a_skipped_step_is_not_an_acknowledgement(app, team, incident_factory, clock):
    from crisis.incidents.service import get_incident, skip_step
    from crisis.people.service import get_person

    ref = incident_factory()
    clock.advance(minutes=2)
    with app.app_context():
        skip_step(incident=get_incident(ref), step_key="gather-facts", actor=get_person(team.lead), reason="known already")
        db.session.commit()
        row = next(r for r in load_board().open_rows if r.ref == ref)
        assert row.first_ack_at is None
