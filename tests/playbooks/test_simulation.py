"""Simulated schedules, checked against times worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisis.playbooks.simulation import simulate
from crisis.playbooks.validation import parse_playbook

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
DECLARED = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def load(key: str):
    path = SHIPPED / f"{key}.yaml"
    return parse_playbook(path.read_text(encoding="utf-8"), source=str(path))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) if day <= 30 else datetime(
        2026, 12, day - 30, hour, minute, tzinfo=UTC)


def schedule_of(key, severity, answers):
    steps = simulate(load(key), severity=severity, answers=answers, declared_at=DECLARED)
    return {s.key: (s.active_at, s.due_at) for s in steps}, steps


def test_viral_complaint_sev1_unhappy_customer_by_hand():
    table, steps = schedule_of(
        "viral-complaint", "SEV1",
        {"author": "unhappy_customer", "facts_wrong": "no", "spreading": "yes"},
    )
    assert table == {
        "gather-facts": (at(21, 9, 0), at(21, 9, 10)),
        "assess-and-classify": (at(21, 9, 10), at(21, 9, 15)),
        "holding-statement": (at(21, 9, 0), at(21, 9, 15)),
        "notify-stakeholders": (at(21, 9, 15), at(21, 9, 25)),
        "brief-exec-sponsor": (at(21, 9, 15), at(21, 9, 25)),
        "employee-guidance": (at(21, 9, 15), at(21, 9, 45)),
        "legal-marketing-review": (at(21, 9, 15), at(21, 9, 35)),
        # respond-with-facts is skipped (not misguided): finished at 09:35 for its dependents.
        "respond-and-fix": (at(21, 9, 35), at(21, 9, 50)),
        "move-to-private": (at(21, 9, 50), at(21, 10, 20)),
        # monitor-only is skipped (not a troll).
        "monitor-and-moderate": (at(21, 9, 15), at(21, 11, 15)),
        "resolve": (at(21, 11, 15), at(21, 15, 15)),
        "post-incident-review": (at(21, 15, 15), at(26, 15, 15)),
        "training-follow-up": (at(26, 15, 15), at(40, 15, 15)),  # 10 December
    }
    holding = next(s for s in steps if s.key == "holding-statement")
    assert [(e.level, e.at, e.notify, e.repeat) for e in holding.escalations] == [
        (1, at(21, 9, 15), ("owner",), False),
        (2, at(21, 9, 25), ("triage_owner", "role_lead"), False),
        (3, at(21, 9, 45), ("exec_sponsor",), False),
        (4, at(21, 10, 15), ("exec_sponsor",), True),
        (5, at(21, 10, 45), ("exec_sponsor",), True),
    ]
    assert holding.escalations[2].channels == ("email", "webhook")


def test_wrong_price_sev3_with_orders_by_hand():
    table, steps = schedule_of(
        "wrong-price", "SEV3", {"error_type": "price", "orders_placed": "yes", "spreading": "no"}
    )
    assert table == {
        "gather-facts": (at(21, 9, 0), at(21, 9, 30)),
        "pause-scheduled-posts": (at(21, 9, 0), at(21, 9, 30)),
        "assess-and-classify": (at(21, 9, 30), at(21, 10, 0)),
        "holding-statement": (at(21, 9, 0), at(21, 10, 0)),
        "notify-stakeholders": (at(21, 10, 0), at(21, 11, 0)),
        # brief-exec-sponsor and employee-guidance do not apply at SEV3.
        "orders-decision": (at(21, 10, 0), at(21, 14, 0)),
        "legal-marketing-review": (at(21, 14, 0), at(21, 16, 0)),
        "publish-correction": (at(21, 16, 0), at(21, 18, 0)),
        "contact-affected-customers": (at(21, 18, 0), at(22, 18, 0)),
        "monitor-and-moderate": (at(21, 18, 0), at(22, 18, 0)),
        "resume-scheduled-posts": (at(21, 18, 0), at(22, 18, 0)),
        "resolve": (at(22, 18, 0), at(24, 18, 0)),
        "post-incident-review": (at(24, 18, 0), at(29, 18, 0)),
    }
    publish = next(s for s in steps if s.key == "publish-correction")
    assert [(e.level, e.at) for e in publish.escalations] == [
        (1, at(21, 18, 0)),
        (2, at(21, 18, 10)),
        (3, at(21, 18, 30)),
        (4, at(21, 19, 0)),
        (5, at(21, 19, 30)),
    ]


def test_account_takeover_sev1_ladder_by_hand():
    _, steps = schedule_of(
        "account-takeover", "SEV1",
        {"access": "locked_out", "posted_harmful": "yes", "data_exposed": "unknown"},
    )
    secure = steps[0]
    assert (secure.key, secure.due_at) == ("secure-account", at(21, 9, 10))
    assert [(e.level, e.at, e.notify) for e in secure.escalations] == [
        (1, at(21, 9, 10), ("owner",)),
        (2, at(21, 9, 15), ("triage_owner", "role_lead")),
        (3, at(21, 9, 25), ("exec_sponsor", "role:security")),
        (4, at(21, 9, 40), ("exec_sponsor", "role:security")),
        (5, at(21, 9, 55), ("exec_sponsor", "role:security")),
    ]
    by_key = {s.key: s for s in steps}
    # gather 09:15 -> assess 09:25; data assessment after secure (09:10) and assess: 09:25 + 2h.
    assert by_key["data-exposure-assessment"].due_at == at(21, 11, 25)
    # public update waits for secure (09:10), review (09:25 + 20m) and pause (09:10): 09:45 + 30m.
    assert by_key["public-update"].active_at == at(21, 9, 45)
    assert by_key["public-update"].due_at == at(21, 10, 15)


def test_unanswered_conditional_steps_are_left_out_and_do_not_hold_up_others():
    table, _ = schedule_of("viral-complaint", "SEV2", {})
    for key in ("legal-marketing-review", "respond-with-facts", "respond-and-fix",
                "move-to-private", "monitor-only"):
        assert key not in table
    # resolve waits only for what runs. gather-facts is due 09:15, assess-and-classify 09:25,
    # monitor-and-moderate 09:25 + 4h = 13:25, resolve 13:25 + 8h = 21:25.
    assert table["monitor-and-moderate"] == (at(21, 9, 25), at(21, 13, 25))
    assert table["resolve"] == (at(21, 13, 25), at(21, 21, 25))


def test_simulate_rejects_unknown_severity_question_and_choice():
    playbook = load("viral-complaint")
    with pytest.raises(ValueError, match="unknown severity"):
        simulate(playbook, severity="SEV9", answers={}, declared_at=DECLARED)
    with pytest.raises(ValueError, match="unknown question 'mood'"):
        simulate(playbook, severity="SEV1", answers={"mood": "x"}, declared_at=DECLARED)
    with pytest.raises(ValueError, match="'journalist' is not a choice"):
        simulate(playbook, severity="SEV1", answers={"author": "journalist"},
                 declared_at=DECLARED)


def test_no_repeat_means_only_the_policy_levels():
    text = (SHIPPED / "viral-complaint.yaml").read_text().replace("  repeat_every: 30m\n", "")
    playbook = parse_playbook(text, source="v.yaml")
    steps = simulate(playbook, severity="SEV1", answers={}, declared_at=DECLARED)
    assert [e.level for e in steps[0].escalations] == [1, 2, 3]
