"""The corpus of broken playbooks: each file lists the problems it must produce, exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisis.playbooks.validation import (
    PlaybookInvalid,
    PlaybookProblem,
    load_directory,
    parse_playbook,
)

BROKEN = Path(__file__).parent / "broken"
SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))


def expectations(path: Path) -> list[tuple[int | None, str | None, str | None, str]]:
    """Read the `# expect: line | step | field | message part` comments at the end of a file."""
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            number, step, field, message = (p.strip() for p in line[9:].split("|", 3))
            result.append(
                (
                    None if number == "-" else int(number),
                    None if step == "-" else step,
                    None if field == "-" else field,
                    message,
                )
            )
    return result


def test_the_corpus_is_large_enough():
    assert len(BROKEN_FILES) >= 25
    assert all(expectations(path) for path in BROKEN_FILES)


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_broken_playbook_reports_file_line_step_and_field(path: Path):
    expected = expectations(path)
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(path.read_text(encoding="utf-8"), source=str(path))
    problems = caught.value.problems
    assert {p.file for p in problems} == {str(path)}
    # Exactly the expected problems: nothing missing, nothing spurious.
    assert sorted((p.line or 0, p.step or "", p.field or "") for p in problems) == sorted(
        (line or 0, step or "", field or "") for line, step, field, _ in expected
    )
    for line, step, field, message in expected:
        assert any(
            p.line == line and p.step == step and p.field == field and message in p.message
            for p in problems
        ), f"no problem at {line}/{step}/{field} saying {message!r}: {problems}"


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_load_directory_loads_nothing_of_a_broken_file(path: Path, tmp_path: Path):
    shutil.copy(path, tmp_path / path.name)
    shutil.copy(SHIPPED / "viral-complaint.yaml", tmp_path / "viral-complaint.yaml")
    loaded, problems = load_directory(tmp_path)
    assert [lp.playbook.key for lp in loaded] == ["viral-complaint"]
    assert problems
    assert {p.file for p in problems} == {str(tmp_path / path.name)}
    assert len(problems) == len(expectations(path))


def test_many_problems_are_all_reported_in_line_order():
    problems = _problems(BROKEN / "many-problems.yaml")
    assert len(problems) == 3
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_problem_reads_as_file_line_step_field_message():
    problem = PlaybookProblem("playbooks/x.yaml", 12, "gather-facts", "due", "bad duration")
    assert str(problem) == "playbooks/x.yaml:12: step 'gather-facts': field 'due': bad duration"
    bare = PlaybookProblem("playbooks/x.yaml", None, None, None, "the file is empty")
    assert str(bare) == "playbooks/x.yaml: the file is empty"


def test_invalid_exception_message_names_the_first_problem_and_the_count():
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook((BROKEN / "many-problems.yaml").read_text(), source="m.yaml")
    assert str(caught.value).startswith("m.yaml:16: field 'escalation.levels.2.channels'")
    assert str(caught.value).endswith("(and 2 more)")


def test_yes_and_no_stay_text_and_sexagesimal_is_not_a_duration():
    text = (SHIPPED / "viral-complaint.yaml").read_text().replace("due: 5d", "due: 1:30")
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(text, source="v.yaml")
    [problem] = caught.value.problems
    assert (problem.step, problem.field) == ("post-incident-review", "due")
    assert "'1:30' is not a duration" in problem.message
    playbook = parse_playbook((SHIPPED / "viral-complaint.yaml").read_text(), source="v.yaml")
    assert playbook.question("facts_wrong").choices == ("yes", "no")


def test_duplicate_playbook_keys_across_files_load_neither(tmp_path: Path):
    text = (SHIPPED / "viral-complaint.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yml").write_text(text)
    shutil.copy(SHIPPED / "wrong-price.yaml", tmp_path / "wrong-price.yaml")
    loaded, problems = load_directory(tmp_path)
    assert [lp.playbook.key for lp in loaded] == ["wrong-price"]
    assert sorted(Path(p.file).name for p in problems) == ["a.yaml", "b.yml"]
    assert all(p.field == "key" and p.line == 2 for p in problems)
    assert "also used by" in problems[0].message


def test_load_directory_reads_yml_and_ignores_other_files(tmp_path: Path):
    shutil.copy(SHIPPED / "wrong-price.yaml", tmp_path / "wrong-price.yml")
    (tmp_path / "README.md").write_text("not a playbook")
    loaded, problems = load_directory(tmp_path)
    assert problems == []
    assert [lp.source for lp in loaded] == [str(tmp_path / "wrong-price.yml")]


def test_load_directory_reports_bad_encoding_and_missing_directory(tmp_path: Path):
    (tmp_path / "latin1.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    loaded, problems = load_directory(tmp_path)
    assert loaded == []
    assert "not UTF-8" in problems[0].message
    loaded, problems = load_directory(tmp_path / "nope")
    assert loaded == []
    assert problems[0].message == "no such directory"


def test_content_hash_is_sha256_of_the_file_bytes(tmp_path: Path):
    import hashlib

    shutil.copy(SHIPPED / "wrong-price.yaml", tmp_path / "wrong-price.yaml")
    [loaded], _ = load_directory(tmp_path)
    raw = (tmp_path / "wrong-price.yaml").read_bytes()
    assert loaded.content_hash == hashlib.sha256(raw).hexdigest()


def _problems(path: Path) -> list[PlaybookProblem]:
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(path.read_text(encoding="utf-8"), source=str(path))
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
                      for p, c in zip("abcdefgh", "bcdefghi", strict=True)),
            "too large",
        ),
        ("a: &a [*a]\n", "refer to themselves"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
    ids=["billion-laughs", "self-alias", "deep-nesting"],
)
def test_hostile_yaml_is_a_problem_not_a_crash(text, fragment):
    with pytest.raises(PlaybookInvalid) as caught:
        parse_playbook(text, source="hostile.yaml")
    [problem] = caught.value.problems
    assert problem.file == "hostile.yaml"
    assert fragment in problem.message


MUTATIONS = ["", "x", "- a", "{", "]", ":", "null", "1", "true", "0s", "SEV9", "after: [x]",
             "when: {}", "key: a", "  - key: gather-facts", "&a x", "*a", "due: {}", "\t"]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_mangled_playbook_gives_a_playbook_or_located_problems(data):
    lines = (SHIPPED / "viral-complaint.yaml").read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(lines) - 1))
        cut = data.draw(st.integers(0, len(lines[index])))
        lines[index] = lines[index][:cut] + data.draw(st.sampled_from(MUTATIONS))
    try:
        playbook = parse_playbook("\n".join(lines), source="m.yaml")
    except PlaybookInvalid as invalid:
        assert invalid.problems
        for problem in invalid.problems:
            assert problem.file == "m.yaml"
            assert problem.line is None or 1 <= problem.line <= len(lines) + 1
            assert str(problem).startswith("m.yaml")
    else:
        assert playbook.steps
