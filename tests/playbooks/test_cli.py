"""`flask playbooks validate | sync | simulate` through Flask's CLI runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from crisis.extensions import db
from crisis.playbooks.service import get_playbook_version

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
BROKEN = Path(__file__).parent / "broken"


def test_validate_the_shipped_playbooks(runner):
    result = runner.invoke(args=["playbooks", "validate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 6 playbooks valid")
    assert "viral-complaint" in result.output


def test_validate_lists_every_problem_and_exits_1(runner, tmp_path):
    shutil.copy(BROKEN / "many-problems.yaml", tmp_path / "many-problems.yaml")
    shutil.copy(BROKEN / "cycle.yaml", tmp_path / "cycle.yaml")
    shutil.copy(SHIPPED / "wrong-price.yaml", tmp_path / "wrong-price.yaml")
    result = runner.invoke(args=["playbooks", "validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert f"{tmp_path / 'many-problems.yaml'}:21: step 'gather-facts': field 'role': unknown role 'intern'" in lines
    assert any("cycle in after: a -> b -> c -> a" in line for line in lines)
    assert lines[-1] == "4 problems in 2 files; 1 valid playbook"


def test_validate_a_single_file(runner):
    ok = runner.invoke(args=["playbooks", "validate", str(SHIPPED / "account-takeover.yaml")])
    assert ok.exit_code == 0
    assert "account-takeover" in ok.output
    bad = runner.invoke(args=["playbooks", "validate", str(BROKEN / "bad-duration.yaml")])
    assert bad.exit_code == 1
    assert "field 'due': '15 minutes' is not a duration" in bad.output


def test_sync_prints_what_changed_and_is_idempotent(app, runner, tmp_path):
    for name in ("viral-complaint.yaml", "product-safety.yaml"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    first = runner.invoke(args=["playbooks", "sync", "--directory", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "added product-safety version 1" in first.output
    assert first.output.strip().endswith("playbooks: 2 new versions, 0 unchanged")
    second = runner.invoke(args=["playbooks", "sync", "--directory", str(tmp_path)])
    assert second.output.strip().endswith("playbooks: 0 new versions, 2 unchanged")
    with app.app_context():
        assert get_playbook_version("product-safety").version == 1


def test_sync_reports_problems_with_exit_1_but_keeps_valid_files(app, runner, tmp_path):
    shutil.copy(SHIPPED / "viral-complaint.yaml", tmp_path / "viral-complaint.yaml")
    shutil.copy(BROKEN / "unknown-channel.yaml", tmp_path / "unknown-channel.yaml")
    result = runner.invoke(args=["playbooks", "sync", "--directory", str(tmp_path)])
    assert result.exit_code == 1
    assert "problem: " in result.output and "unknown channel 'sms'" in result.output
    with app.app_context():
        assert get_playbook_version("viral-complaint").version == 1


def test_simulate_prints_a_table(app, runner):
    with app.app_context():
        runner.invoke(args=["playbooks", "sync"])
    result = runner.invoke(args=[
        "playbooks", "simulate", "viral-complaint", "--severity", "SEV1",
        "--answer", "author=unhappy_customer", "--at", "2026-11-21T09:00:00+00:00"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "viral-complaint (version 1): Viral customer complaint"
    row = next(line for line in lines if line.startswith("holding-statement"))
    assert "2026-11-21 09:00 (+0s)" in row and "2026-11-21 09:15 (+15m)" in row
    level3 = [line for line in lines if "level 3 " in line][2]  # the holding statement's
    assert "2026-11-21 09:45 (+45m)" in level3 and "exec_sponsor via email, webhook" in level3
    assert "left out (does not apply or waits for an answer): respond-with-facts, monitor-only" in result.output


def test_simulate_json(runner):
    result = runner.invoke(args=[
        "playbooks", "simulate", "wrong-price", "--severity", "sev3", "--json",
        "--answer", "orders_placed=yes", "--at", "2026-11-21T09:00:00Z"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["severity"] == "SEV3"
    assert data["source"].endswith("wrong-price.yaml (not synced)")
    steps = {s["key"]: s for s in data["steps"]}
    assert steps["orders-decision"]["due_at"] == "2026-11-21T14:00:00+00:00"
    assert steps["publish-correction"]["escalations"][3] == {
        "level": 4, "at": "2026-11-21T19:00:00+00:00", "notify": ["exec_sponsor"],
        "channels": ["email", "webhook"], "repeat": True}


def test_simulate_defaults_to_the_crisis_clock(runner, clock):
    result = runner.invoke(args=["playbooks", "simulate", "account-takeover", "--severity", "SEV1",
                                 "--json"])
    data = json.loads(result.output)
    assert data["declared_at"] == clock.current.isoformat()


def test_simulate_a_file(runner, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text((SHIPPED / "viral-complaint.yaml").read_text().replace(
        "due: {SEV1: 10m, SEV2: 15m, default: 30m}", "due: {SEV1: 5m, SEV2: 15m, default: 30m}", 1))
    result = runner.invoke(args=["playbooks", "simulate", "viral-complaint", "--severity", "SEV1",
                                 "--file", str(path), "--json", "--at", "2026-11-21T09:00:00Z"])
    assert json.loads(result.output)["steps"][0]["due_at"] == "2026-11-21T09:05:00+00:00"


def test_simulate_refuses_bad_input(runner):
    def run(*extra):
        return runner.invoke(args=["playbooks", "simulate", *extra])

    unknown = run("nope", "--severity", "SEV1")
    assert unknown.exit_code == 1 and "no playbook 'nope'" in unknown.output
    answer = run("viral-complaint", "--severity", "SEV1", "--answer", "author")
    assert answer.exit_code == 2 and "is not QUESTION=VALUE" in answer.output
    choice = run("viral-complaint", "--severity", "SEV1", "--answer", "author=journalist")
    assert choice.exit_code == 1 and "'journalist' is not a choice" in choice.output
    severity = run("viral-complaint", "--severity", "SEV5")
    assert severity.exit_code == 2
    when = run("viral-complaint", "--severity", "SEV1", "--at", "yesterday")
    assert when.exit_code == 2 and "not an ISO 8601 time" in when.output


def test_cli_sync_commits(app, runner):
    runner.invoke(args=["playbooks", "sync"])
    with app.app_context():
        db.session.remove()
        assert get_playbook_version("security-rumour").version == 1


def test_simulate_works_before_the_database_is_migrated(app_config, tmp_path):
    from crisis import create_app

    bare = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}"})
    result = bare.test_cli_runner().invoke(args=[
        "playbooks", "simulate", "off-script-post", "--severity", "SEV2", "--json",
        "--at", "2026-11-21T09:00:00Z"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["source"].endswith("off-script-post.yaml (not synced)")
    assert data["steps"][0] == {
        "key": "gather-facts", "title": "Capture the post and its reach", "role": "triage-lead",
        "active_at": "2026-11-21T09:00:00+00:00", "due_at": "2026-11-21T09:15:00+00:00",
        "escalations": data["steps"][0]["escalations"]}
    assert [e["at"] for e in data["steps"][0]["escalations"]][:3] == [
        "2026-11-21T09:15:00+00:00", "2026-11-21T09:25:00+00:00", "2026-11-21T09:45:00+00:00"]
