"""Who may send alerts: an alerts-scoped token, or a general token of someone who may declare."""

from __future__ import annotations

import pytest

from tests.support.alerts import AM, EVENTS, payload


@pytest.mark.parametrize("path, body", [(AM, lambda: payload("alertmanager_firing")), (EVENTS, None)])
def test_a_view_only_persons_general_token_cannot_send_alerts(make_person, api_client, synced, stored, path, body):
    make_person("exec.viewer@example.com", permissions=["view"])
    viewer = api_client("exec.viewer@example.com")
    data = body() if body else {"event_action": "trigger", "payload": {"summary": "Mentions spike", "source": "listening", "severity": "critical"}}
    response = viewer.post(path, json=data)
    assert response.status_code == 403
    assert "declare" in response.json["error"]["message"]
    assert stored.alerts() == []


def test_a_general_token_of_someone_who_may_declare_can_send_alerts(make_person, api_client, synced, stored):
    make_person("lead@example.com", permissions=["declare", "view"])
    response = api_client("lead@example.com").post(
        EVENTS,
        json={"event_action": "trigger", "payload": {"summary": "Mentions spike", "source": "listening", "severity": "warning"}},
    )
    assert response.status_code == 202
    assert len(stored.alerts()) == 1
