"""Course and scenario files are checked like playbooks: file, line and field, and a bad file loads nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisis.drills.scenarios import load_scenarios
from crisis.training.courses import load_courses

GOOD_COURSE = """\
key: first-aid
title: Social first aid
roles: [customer-care]
valid_days: 180
material: |
  Answer fast.
"""

BROKEN_COURSE = """\
key: Bad Key
title: A course
roles: [customer-care, juggler]
valid_days: 0
remind_days: 30
materials: oops
"""

BROKEN_SCENARIO = """\
key: storm
title: A storm
playbook: viral-complaint
severity: SEV9
answers:
  author: alien
injects:
  - key: first
    at: 10m
    title: Something happens
  - key: second
    at: soon
    title: Something else
    roles: [legal, wizard]
"""


def _write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text)
    return str(path)


def test_the_shipped_courses_and_scenarios_are_valid(app):
    courses, problems = load_courses(app.config["TRAINING_DIR"])
    assert problems == []
    assert {c.value.key for c in courses} == {"spokesperson", "community-moderator", "legal-marketing-approval",
                                              "social-media-policy"}
    scenarios, problems = load_scenarios(app.config["DRILLS_DIR"], playbooks_dir=app.config["PLAYBOOKS_DIR"])
    assert problems == []
    assert {s.value.playbook for s in scenarios} == {"viral-complaint", "wrong-price", "account-takeover"}


def test_a_broken_course_names_file_line_and_field_and_loads_nothing(tmp_path):
    good = _write(tmp_path, "a.yaml", GOOD_COURSE)
    bad = _write(tmp_path, "b.yaml", BROKEN_COURSE)
    loaded, problems = load_courses(tmp_path)
    assert [item.source for item in loaded] == [good]
    assert [(p.file, p.line, p.field) for p in problems] == [
        (bad, 1, "material"),  # missing (reported at the top of the file)
        (bad, 1, "key"),  # not a slug
        (bad, 3, "roles"),  # unknown role 'juggler'
        (bad, 4, "valid_days"),  # zero
        (bad, 6, "materials"),  # unknown key
    ]
    messages = " | ".join(str(p) for p in problems)
    assert "unknown role 'juggler'" in messages and "did you mean 'material'" in messages


def test_a_broken_scenario_names_file_line_and_field_and_loads_nothing(app, tmp_path):
    bad = _write(tmp_path, "storm.yaml", BROKEN_SCENARIO)
    loaded, problems = load_scenarios(tmp_path, playbooks_dir=app.config["PLAYBOOKS_DIR"])
    assert loaded == []
    by_field = {(p.field, p.step): p for p in problems}
    assert all(p.file == bad for p in problems)
    assert by_field[("severity", None)].line == 4
    assert by_field[("answers.author", None)].line == 6
    assert by_field[("at", "second")].line == 12
    assert by_field[("roles", "second")].line == 14
    assert "'alien' is not a choice of 'author'" in str(by_field[("answers.author", None)])


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("key: x\n  bad: [\n", 2, "YAML syntax error"),
        ("", 1, "the file is empty"),
        ("- just\n- a list\n", 1, "must be a mapping"),
    ],
)
def test_unreadable_files_are_reported_with_their_line(tmp_path, text, line, message):
    _write(tmp_path, "x.yaml", text)
    loaded, problems = load_courses(tmp_path)
    assert loaded == []
    assert problems[0].line == line and message in problems[0].message


def test_the_validate_commands_print_every_problem_and_exit_1(tmp_path, runner):
    _write(tmp_path, "b.yaml", BROKEN_COURSE)
    result = runner.invoke(args=["training", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'b.yaml'}:4: field 'valid_days'" in result.output
    assert runner.invoke(args=["training", "validate"]).exit_code == 0
    scenario_dir = tmp_path / "drills"
    scenario_dir.mkdir()
    _write(scenario_dir, "storm.yaml", BROKEN_SCENARIO)
    result = runner.invoke(args=["drills", "validate", str(scenario_dir)])
    assert result.exit_code == 1 and "field 'severity'" in result.output
    assert runner.invoke(args=["drills", "validate"]).exit_code == 0
