"""The CLI: declare prints the reference; incidents list/show and the step actions."""

from __future__ import annotations

import pytest

from tests.support.incidents import counts, incident_state, kinds, step_state


def test_declare_prints_the_reference(runner, team, synced, app):
    result = runner.invoke(args=[
        "declare", "--playbook", "viral-complaint", "--title", "Kettle video", "--severity", "sev2",
        "--summary", "20k views", "--link", "tiktok=https://www.tiktok.com/@a/video/1",
        "--link", "https://x.com/someone/status/2", "--as", team.lead, "--answer", "author=troll",
    ])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "INC-2026-0001"
    incident = incident_state(app, "INC-2026-0001")
    assert incident["severity"] == "SEV2"
    assert incident["links"] == [
        {"platform": "tiktok", "url": "https://www.tiktok.com/@a/video/1"},
        {"platform": "x", "url": "https://x.com/someone/status/2"},
    ]
    assert incident["triage_answers"] == {"author": "troll"}


def test_declare_without_a_person_warns_when_nobody_triages(runner, synced, app):
    result = runner.invoke(args=["declare", "--playbook", "wrong-price", "--title", "Wrong price", "--severity", "SEV3"])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output
    assert result.output.strip().splitlines()[-1] == "INC-2026-0001"
    assert incident_state(app, "INC-2026-0001")["triage_owner"] is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--playbook", "nope", "--title", "t", "--severity", "SEV2"], "There is no playbook “nope”"),
        (["--playbook", "wrong-price", "--title", "t", "--severity", "SEV7"], "SEV7"),
        (["--playbook", "wrong-price", "--title", "t" * 201, "--severity", "SEV2"], "at most 200"),
        (["--playbook", "wrong-price", "--title", "t", "--severity", "SEV2", "--link", "x=ftp://a.b/c"], "http(s)"),
        (["--playbook", "wrong-price", "--title", "t", "--severity", "SEV2", "--triage-owner", "ghost@example.com"],
         "Nobody here has that email address"),
        (["--playbook", "wrong-price", "--title", "t", "--severity", "SEV2", "--as", "ghost@example.com"],
         "Nobody here has that email address"),
    ],
)
def test_bad_declarations_exit_non_zero_and_create_nothing(runner, team, synced, app, arguments, message):
    result = runner.invoke(args=["declare", *arguments])
    assert result.exit_code != 0
    assert message in result.output
    assert counts(app) == (0, 0, 0)


def test_list_show_and_step_actions(runner, team, incident_factory, app):
    assert "no open incidents" in runner.invoke(args=["incidents", "list"]).output
    ref = incident_factory(title="Kettle video")
    listed = runner.invoke(args=["incidents", "list"]).output
    assert ref in listed and "Kettle video" in listed
    shown = runner.invoke(args=["incidents", "show", ref]).output
    assert "gather-facts" in shown and "brief-exec-sponsor" not in shown

    def run(*args):
        return runner.invoke(args=["incidents", *args])

    assert run("ack", ref, "gather-facts", "--as", team.lead).exit_code == 0
    done = run("complete", ref, "gather-facts", "--as", team.lead, "--note", "archived")
    assert done.exit_code == 0 and "gather-facts: done" in done.output
    again = run("complete", ref, "gather-facts", "--as", team.lead)
    assert again.exit_code == 1 and "already done" in again.output
    assert kinds(app, ref).count("step.completed") == 1
    assert run("assign", ref, "holding-statement", "--to", team.social, "--as", team.spokes).exit_code == 0
    assert step_state(app, ref, "holding-statement")["owner"] == team.social
    assert run("block", ref, "holding-statement", "--reason", "legal", "--as", team.social).exit_code == 0
    assert run("unblock", ref, "holding-statement", "--as", team.social).exit_code == 0
    assert "Only the triage owner" in run("skip", ref, "holding-statement", "--reason", "x", "--as", team.care).output
    assert run("skip", ref, "holding-statement", "--reason", "by phone", "--as", team.lead).exit_code == 0
    assert run("triage", ref, "author=misguided", "--as", team.lead).exit_code == 0
    assert run("triage", ref, "author", "--as", team.lead).exit_code == 1
    assert run("note", ref, "Called the customer", "--as", team.care).exit_code == 0
    changed = run("change", ref, "--severity", "SEV1", "--status", "triage", "--as", team.lead)
    assert changed.exit_code == 0 and "SEV1  triage" in changed.output
    refused = run("change", ref, "--status", "resolved", "--as", team.lead)
    assert refused.exit_code == 1 and "required step" in refused.output
    assert run("show", "INC-2026-9999").exit_code == 1
    assert incident_state(app, ref)["triage_answers"] == {"author": "misguided"}
