"""Admin actions outside the admin pages land on the audit trail too."""

from __future__ import annotations

from tests.support.audit import audit_actions


def test_cli_user_and_token_management_is_audited(app, runner):
    result = runner.invoke(args=["users", "create", "ops@example.com", "--name", "Ops", "--permission", "view"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "create", "ops@example.com", "--name", "monitor"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "revoke", "1"])
    assert result.exit_code == 0, result.output
    assert audit_actions(app) == [
        ("cli", "person.created", "ops@example.com"),
        ("cli", "token.created", "ops@example.com"),
        ("cli", "token.revoked", "ops@example.com"),
    ]


def test_a_failed_cli_action_leaves_no_audit_event(app, runner):
    result = runner.invoke(args=["tokens", "revoke", "99"])
    assert result.exit_code != 0
    assert audit_actions(app) == []


def test_playbook_sync_and_webhook_changes_from_the_web_are_audited(app, client, make_person, login):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    make_person("root@example.com", permissions=["admin"])
    login("root@example.com")
    assert client.post("/playbooks/sync").status_code == 302
    response = client.post("/admin/webhooks", data={"name": "ops", "url": "http://127.0.0.1:9/hook", "format": "slack"})
    assert response.status_code == 302
    assert client.post("/admin/webhooks/1/active", data={}).status_code == 302
    assert audit_actions(app) == [
        ("root@example.com", "playbooks.synced", ""),
        ("root@example.com", "webhook.added", "ops"),
        ("root@example.com", "webhook.disabled", "ops"),
    ]


def test_webhook_cli_changes_are_audited(app, runner):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert runner.invoke(args=["webhooks", "add", "ops", "http://127.0.0.1:9/hook"]).exit_code == 0
    assert runner.invoke(args=["webhooks", "disable", "ops"]).exit_code == 0
    assert audit_actions(app) == [("cli", "webhook.added", "ops"), ("cli", "webhook.disabled", "ops")]
