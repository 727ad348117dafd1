"""Finding 10b: /health tells anyone whether the desk is healthy, and only admins where it runs."""

from __future__ import annotations

from crisis.escalation import scheduler as scheduling

ANONYMOUS_SCHEDULER = {"status", "seconds_since_last_sweep"}


def test_anonymous_callers_see_the_status_and_the_age_of_the_last_sweep_only(app, client, clock):
    app.config["SWEEP_SECONDS"] = 5
    scheduling.sweep_job(app)
    clock.advance(seconds=4)
    body = client.get("/health").get_json()
    assert body == {"status": "ok", "database": "ok", "scheduler": {"status": "ok", "seconds_since_last_sweep": 4.0}}
    assert scheduling.process_label() not in client.get("/health").get_data(as_text=True)


def test_anonymous_callers_are_told_a_stale_scheduler_without_its_host(app, client, clock):
    app.config["SWEEP_SECONDS"] = 5
    scheduling.sweep_job(app)
    clock.advance(seconds=16)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unhealthy", "database": "ok",
                                   "scheduler": {"status": "stale", "seconds_since_last_sweep": 16.0}}


def test_a_token_without_admin_or_a_bad_token_gets_the_anonymous_answer(app, client, make_person, api_client):
    scheduling.sweep_job(app)
    make_person("viewer@example.com", permissions=("view", "respond"))
    for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.get("/health", headers=headers)
        assert response.status_code == 200 and "process" not in response.get_json()["scheduler"]
    assert "process" not in api_client("viewer@example.com").get("/health").get_json()["scheduler"]


def test_a_signed_in_non_admin_gets_the_anonymous_answer(app, client, make_person, login):
    scheduling.sweep_job(app)
    make_person("viewer@example.com", permissions=("view", "respond"))
    login("viewer@example.com")
    assert set(client.get("/health").get_json()["scheduler"]) == ANONYMOUS_SCHEDULER


def test_admins_see_the_details_by_session_or_by_token(app, client, make_person, login, api_client):
    scheduling.sweep_job(app)
    make_person("admin@example.com", permissions=("admin",))
    by_token = api_client("admin@example.com").get("/health").get_json()["scheduler"]
    assert by_token["process"] == scheduling.process_label()
    assert {"last_sweep_at", "allowed_seconds"} <= set(by_token)
    login("admin@example.com")
    assert client.get("/health").get_json()["scheduler"]["process"] == scheduling.process_label()
