"""The executive (view) permission sees everything and can change nothing.

Every state-changing route in the app (web forms and the JSON API, whoever owns them) is
tried as a view-only person: each answers 403 and the database is unchanged afterwards.
Only a person's own session and account settings are theirs to change.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from crisis.extensions import db

# Self-service: signing in and out, one's own account, password, inbox and notification
# preferences (every endpoint of the notifications blueprint); reporting a post one
# spotted is open to every signed-in person by design (it only queues a pending alert for a
# declarer to confirm). Alert intake is for
# machine clients holding an alerts-scoped token (the alerts engineer's design: any valid
# token, no person permission) and is tested by the alerts suite.
SELF_SERVICE = {
    "people.login", "people.logout", "people.account", "people.change_password",
    "alerts.report", "api.events_api", "api.alertmanager_webhook",
    "policy.acknowledge",  # every employee, executives too, acknowledges the social media policy
}
# Columns that reading pages legitimately touches (token last use).
SKIPPED_TABLES = {"api_tokens", "login_failures", "login_attempts"}
CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _snapshot(app) -> dict[str, list[tuple]]:
    with app.app_context():
        state = {}
        for table in db.metadata.sorted_tables:
            if table.name in SKIPPED_TABLES:
                continue
            rows = db.session.execute(select(table)).all()
            state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
        db.session.rollback()
        return state


def _url(rule, values: dict[str, object]) -> str:
    path = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name]  # noqa: SLF001 - reading the rule's converter type
        value = values.get(name, 1 if type(converter).__name__ == "IntegerConverter" else "x")
        path = path.replace(f"<{name}>", str(value)).replace(f"<int:{name}>", str(value))
    return path


@pytest.fixture
def world(app, team, desk, incident_factory, clock):
    """An open incident with a statement in review, and a resolved one awaiting its review."""
    from crisis.incidents.service import get_incident
    from crisis.people.service import get_person
    from crisis.statements import service as statements

    open_ref = incident_factory(severity="SEV2")
    with app.app_context():
        statement = statements.draft_statement(
            incident=get_incident(open_ref), actor=get_person(team.lead), platform="x",
            body="We are aware.", step_key="holding-statement",
        )
        statements.submit_statement(statement=statement, actor=get_person(team.lead))
        db.session.commit()
        statement_id = statement.id
    resolved_ref = incident_factory(title="Over", severity="SEV2")
    clock.advance(minutes=30)
    desk.resolve(resolved_ref)
    return {"open": open_ref, "resolved": resolved_ref, "statement_id": statement_id}


def test_every_state_change_is_refused_to_a_view_only_person(app, client, team, login, api_client, world):
    viewer = api_client(team.exec)
    login(team.exec)
    before = _snapshot(app)
    tried, refused = [], []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & CHANGING_METHODS
        own_inbox = rule.endpoint.startswith("notifications.")
        if not methods or rule.endpoint in SELF_SERVICE or own_inbox or rule.endpoint == "static":
            continue
        for ref in (world["open"], world["resolved"]):
            url = _url(rule, {"ref": ref, "key": "gather-facts", "statement_id": world["statement_id"], "id": 1})
            for method in methods:
                if url.startswith("/api/"):
                    response = viewer.client.open(
                        url, method=method, json={}, headers={"Authorization": f"Bearer {viewer.token}"}
                    )
                else:
                    response = client.open(url, method=method, data={})
                tried.append(f"{method} {url}")
                if response.status_code != 403:
                    refused.append(f"{method} {url} -> {response.status_code}")
    assert tried, "no state-changing routes found"
    assert not refused, "view-only person was not refused:\n" + "\n".join(refused)
    assert _snapshot(app) == before


def test_view_only_person_reads_every_executive_page(client, team, login, world):
    login(team.exec)
    ref = world["resolved"]
    for url in ("/dashboard", "/dashboard/live", "/metrics", "/reviews", f"/incidents/{ref}/timeline",
                f"/incidents/{ref}/timeline/live", f"/incidents/{ref}/timeline.csv", f"/incidents/{ref}/timeline.json",
                f"/incidents/{ref}/report.md", f"/incidents/{ref}/report", f"/incidents/{ref}/review"):
        assert client.get(url).status_code == 200, url


def test_snapshot_sees_a_change(app, team, world):
    """Guard the guard: the snapshot notices a real change."""
    from crisis.incidents.service import add_note, get_incident
    from crisis.people.service import get_person

    before = _snapshot(app)
    with app.app_context():
        add_note(incident=get_incident(world["open"]), actor=get_person(team.lead), text="seen")
        db.session.commit()
        db.session.execute(text("SELECT 1"))
    assert _snapshot(app) != before
