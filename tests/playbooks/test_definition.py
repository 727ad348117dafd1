"""The parsed playbook: conditions, due times, templates, ordering and the stored dict form."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crisis.playbooks.definition import (
    Condition,
    EscalationLevel,
    EscalationPolicy,
    Playbook,
    StepDef,
    render_template,
)
from crisis.playbooks.validation import content_hash, parse_playbook

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"


def make_step(key: str, after: tuple[str, ...] = (), **kwargs) -> StepDef:
    return StepDef(key=key, title=key.title(), guidance="Do it.", role="triage-lead",
                   due=timedelta(minutes=10), after=after, **kwargs)


def make_playbook(steps: tuple[StepDef, ...]) -> Playbook:
    policy = EscalationPolicy(
        levels=(EscalationLevel(after=timedelta(0), notify=("owner",), channels=("in_app",)),)
    )
    return Playbook(key="p", title="P", description="", default_severity="SEV2",
                    escalation=policy, steps=steps)


def test_condition_needs_severity_and_every_answer():
    condition = Condition(severities=("SEV1", "SEV2"),
                          answers={"author": ("misguided",), "facts_wrong": ("yes",)})
    assert condition.evaluate("SEV1", {"author": "misguided", "facts_wrong": "yes"}) is True
    assert condition.evaluate("SEV3", {"author": "misguided", "facts_wrong": "yes"}) is False
    assert condition.evaluate("SEV1", {"author": "troll", "facts_wrong": "yes"}) is False
    # One answer missing: undecided, unless another answer already rules the step out.
    assert condition.evaluate("SEV1", {"author": "misguided"}) is None
    assert condition.evaluate("SEV1", {"author": "misguided", "facts_wrong": ""}) is None
    assert condition.evaluate("SEV1", {"author": "troll"}) is False
    assert condition.evaluate("SEV3", {}) is False


def test_condition_with_only_severities_or_only_answers():
    assert Condition(severities=("SEV1",)).evaluate("SEV1", {}) is True
    assert Condition(answers={"author": ("troll", "rager")}).evaluate("SEV4", {"author": "rager"})


def test_step_applies_and_due_for():
    plain = make_step("a")
    assert plain.applies("SEV4", {}) is True
    conditional = make_step("b", when=Condition(answers={"author": ("troll",)}),
                            due_by_severity={"SEV1": timedelta(minutes=5)})
    assert conditional.applies("SEV1", {}) is None
    assert conditional.applies("SEV1", {"author": "troll"}) is True
    assert conditional.due_for("SEV1") == timedelta(minutes=5)
    assert conditional.due_for("SEV3") == timedelta(minutes=10)


def test_playbook_lookups_raise_key_error():
    playbook = make_playbook((make_step("a"),))
    assert playbook.step("a").key == "a"
    with pytest.raises(KeyError):
        playbook.step("zzz")
    with pytest.raises(KeyError):
        playbook.question("author")


def test_definitions_are_frozen_and_hashable():
    playbook = make_playbook((make_step("a", when=Condition(answers={"q": ("x",)})),))
    assert hash(playbook) == hash(Playbook.from_dict(playbook.to_dict()))
    with pytest.raises(AttributeError):
        playbook.key = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("We saw {link}.", {"link": "https://x.test/1"}, "We saw https://x.test/1."),
        ("Hi {company}", {}, "Hi [company]"),
        ("Hi {company}", {"company": ""}, "Hi [company]"),
        ("{unknown} stays", {"unknown_other": "x"}, "[unknown] stays"),
        ("stray { and } and {} and {{link}}", {"link": "L"}, "stray { and } and {} and {L}"),
        ("{not a field} {1x}", {}, "{not a field} {1x}"),
        ("{summary}", {"summary": "{link}"}, "{link}"),
    ],
)
def test_render_template(template, values, expected):
    assert render_template(template, values) == expected


def test_ordered_steps_respects_after_and_keeps_file_order_for_ties():
    steps = (make_step("c", ("b",)), make_step("a"), make_step("b", ("a",)), make_step("d"))
    assert [s.key for s in make_playbook(steps).ordered_steps()] == ["a", "b", "c", "d"]


def test_ordered_steps_refuses_a_cycle():
    steps = (make_step("a", ("b",)), make_step("b", ("a",)))
    with pytest.raises(ValueError, match="cycle"):
        make_playbook(steps).ordered_steps()


@st.composite
def random_dags(draw):
    """A random DAG in a random file order: edges only point to earlier nodes of a hidden order."""
    count = draw(st.integers(1, 14))
    keys = [f"s{i}" for i in range(count)]
    after = {
        key: tuple(sorted(draw(st.sets(st.sampled_from(keys[:i]), max_size=4)) if i else ()))
        for i, key in enumerate(keys)
    }
    file_order = draw(st.permutations(keys))
    return tuple(make_step(key, after[key]) for key in file_order)


@given(random_dags())
def test_ordered_steps_respects_after_for_random_dags(steps):
    ordered = make_playbook(steps).ordered_steps()
    assert sorted(s.key for s in ordered) == sorted(s.key for s in steps)
    position = {step.key: i for i, step in enumerate(ordered)}
    for step in ordered:
        for before in step.after:
            assert position[before] < position[step.key]


@given(random_dags())
def test_ordered_steps_keeps_file_order_when_it_already_works(steps):
    playbook = make_playbook(steps)
    ordered = playbook.ordered_steps()
    assert make_playbook(ordered).ordered_steps() == ordered


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.stem)
def test_to_dict_from_dict_round_trip_through_json(path: Path):
    playbook = parse_playbook(path.read_text(encoding="utf-8"), source=str(path))
    data = json.loads(json.dumps(playbook.to_dict()))
    assert Playbook.from_dict(data) == playbook
    assert Playbook.from_dict(data).to_dict() == data
    assert all(isinstance(step["due"], int) for step in data["steps"])


def test_to_dict_shape():
    step = make_step("a", when=Condition(severities=("SEV1",), answers={"q": ("x", "y")}),
                     due_by_severity={"SEV1": timedelta(minutes=5)})
    data = make_playbook((step,)).to_dict()
    assert data["escalation"] == {
        "levels": [{"after": 0, "notify": ["owner"], "channels": ["in_app"]}],
        "repeat_every": None,
        "acknowledge_snooze": 900,
    }
    assert data["steps"][0]["due"] == 600
    assert data["steps"][0]["due_by_severity"] == {"SEV1": 300}
    assert data["steps"][0]["when"] == {"severities": ["SEV1"], "answers": {"q": ["x", "y"]}}
    assert data["triage_role"] == "triage-lead"


def test_content_hash_of_text_is_the_hash_of_its_utf8_bytes():
    import hashlib

    assert content_hash("café") == hashlib.sha256("café".encode()).hexdigest()
    assert content_hash(b"abc") == hashlib.sha256(b"abc").hexdigest()
