"""Routing rules: the validator (file, line, rule, field), routing decisions, the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from crisis.alerts.routing import RulesInvalid, load_rules, parse_rules
from crisis.config import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "alerts" / "routing.yaml"
PLAYBOOKS = {"viral-complaint", "account-takeover", "wrong-price", "security-rumour",
             "off-script-post", "product-safety"}


def problems_of(text: str, playbook_keys=PLAYBOOKS) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        parse_rules(textwrap.dedent(text), source="rules.yaml", playbook_keys=playbook_keys)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_rules_are_valid_against_the_shipped_playbooks():
    rules = load_rules(SHIPPED, playbook_keys=PLAYBOOKS)

    assert [r.name for r in rules.rules][:2] == ["brand-account-takeover", "mention-spike"]
    assert rules.defaults.mode == "pending"


def test_routing_takes_the_first_matching_rule_and_maps_severity():
    rules = parse_rules(textwrap.dedent("""
        defaults: {playbook: viral-complaint, severity: SEV4}
        severity_map: {high: SEV2}
        rules:
          - name: takeover
            match: {alertname: [NewLocation, NewDevice]}
            playbook: account-takeover
            mode: open
            triage_owner: Sec@Example.com
          - name: any-price
            match_re: {alertname: "Price.*"}
            playbook: wrong-price
            severity_map: {warning: SEV1}
          - name: fixed
            match: {team: pr}
            severity: SEV2
    """), source="rules.yaml")

    takeover = rules.route({"alertname": "NewDevice"}, "critical")
    assert (takeover.rule, takeover.playbook, takeover.mode, takeover.severity) == (
        "takeover", "account-takeover", "open", "SEV1")
    assert takeover.triage_owner == "sec@example.com"
    assert rules.route({"alertname": "PriceDrift"}, "warning").severity == "SEV1"  # rule override
    assert rules.route({"alertname": "PriceDrift"}, "high").severity == "SEV2"  # file map
    assert rules.route({"team": "pr"}, "critical").severity == "SEV2"  # fixed
    fallback = rules.route({"alertname": "Other"}, "unheard-of")
    assert (fallback.rule, fallback.playbook, fallback.mode, fallback.severity) == (
        "default", "viral-complaint", "pending", "SEV4")
    assert fallback.triage_role == "triage-lead"
    assert rules.route({}, "sev3").severity == "SEV3"  # SEVn passes through
    assert rules.route({"alertname": "Pricey"}, "").rule == "any-price"


def test_every_problem_is_reported_with_line_rule_and_field():
    problems = problems_of("""
        defaults:
          playbook: viral-complaint
          mode: sometimes
        severity_map:
          critical: SEV0
        rules:
          - name: spike
            match: {alertname: MentionSpike}
            playbook: viral-complaints
            triage_role: triage-leed
          - name: spike
            match: {alertname: Other}
          - name: Bad Name
            match_re: {source: "(unclosed"}
          - match: {x: [{a: 1}]}
            severity: urgent
            colour: red
    """)

    assert problems == [
        "rules.yaml:4: field 'defaults.mode': mode must be one of open, pending, got 'sometimes'",
        "rules.yaml:6: field 'severity_map.critical': severity_map 'critical' must be one of SEV1, SEV2, "
        "SEV3, SEV4, got 'SEV0'",
        "rules.yaml:10: rule 'spike': field 'playbook': unknown playbook 'viral-complaints' (known: "
        "account-takeover, off-script-post, product-safety, security-rumour, viral-complaint, "
        "wrong-price); did you mean 'viral-complaint'?",
        "rules.yaml:11: rule 'spike': field 'triage_role': unknown role 'triage-leed'; did you mean 'triage-lead'?",
        "rules.yaml:12: rule 'spike': field 'name': rule name 'spike' is also used by rule #1",
        "rules.yaml:14: rule 'Bad Name': field 'name': name must be a slug (lowercase letters, digits, '-'), "
        "got 'Bad Name'",
        "rules.yaml:15: rule 'Bad Name': field 'match_re.source': is not a valid regular expression: "
        "missing ), unterminated subpattern at position 0",
        "rules.yaml:16: rule '#4': field 'name': missing required key 'name' in a rule",
        "rules.yaml:16: rule '#4': field 'match.x': match values must be text, got a mapping",
        "rules.yaml:17: rule '#4': field 'severity': severity must be one of SEV1, SEV2, SEV3, SEV4, "
        "got 'urgent'",
        "rules.yaml:18: rule '#4': field 'colour': unknown key 'colour' in a rule (allowed: name, match, "
        "match_re, playbook, mode, severity, severity_map, triage_role, triage_owner)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "rules.yaml:1: the file is empty"),
        ("defaults: [\n", "rules.yaml:2: YAML syntax error"),
        ("- a\n- b\n", "rules.yaml:1: the rules file must be a mapping of keys to values, got a list"),
        ("rules: {a: 1}\n", "rules.yaml:1: field 'rules': rules must be a list of rules, got a mapping"),
        ("rules:\n  - name: catch-all\n    playbook: wrong-price\n",
         "rules.yaml:2: rule 'catch-all': a rule needs 'match' or 'match_re'"),
        ("defaults: {mode: open}\n",
         "rules.yaml:1: field 'defaults.mode': mode 'open' needs a default playbook"),
        ("defaults: {triage_owner: not-an-email}\n",
         "rules.yaml:1: field 'defaults.triage_owner': triage_owner must be an email address"),
        ("rules:\n  - name: both\n    match: {a: b}\n    triage_owner: a@example.com\n    triage_role: legal\n",
         "rules.yaml:5: rule 'both': field 'triage_role': give triage_owner or triage_role, not both"),
        ("defaults: {}\ndefaults: {}\n", "rules.yaml:2: field 'defaults': duplicate key 'defaults'"),
    ],
)
def test_structural_problems(text, expected):
    assert problems_of(text)[0].startswith(expected)


def test_yes_and_no_stay_text_as_label_values():
    rules = parse_rules("rules:\n  - name: r\n    match: {paging: yes}\n", source="rules.yaml")

    assert rules.rules[0].match == {"paging": ("yes",)}


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(RulesInvalid) as caught:
        load_rules(tmp_path / "nope.yaml")

    assert str(caught.value.problems[0]) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_cli_validate_rules_passes_on_the_shipped_file(runner):
    result = runner.invoke(args=["alerts", "validate-rules"])

    assert result.exit_code == 0, result.output
    assert "routing.yaml: 6 rules valid" in result.output
    assert "mention-spike: open -> viral-complaint" in result.output


def test_cli_validate_rules_lists_problems_and_exits_1(runner, tmp_path: Path):
    bad = tmp_path / "routing.yaml"
    bad.write_text("defaults:\n  playbook: nope\nrules:\n  - name: x\n    match: {a: b}\n    mode: later\n")

    result = runner.invoke(args=["alerts", "validate-rules", str(bad)])

    assert result.exit_code == 1
    assert f"{bad}:2: field 'defaults.playbook': unknown playbook 'nope'" in result.output
    assert f"{bad}:6: rule 'x': field 'mode': mode must be one of open, pending, got 'later'" in result.output
    assert "2 problems in" in result.output


def test_cli_reads_crisis_alert_rules(app, runner, tmp_path: Path):
    custom = tmp_path / "custom.yaml"
    custom.write_text("defaults: {playbook: wrong-price, mode: open}\n")
    app.config["ALERT_RULES"] = str(custom)

    result = runner.invoke(args=["alerts", "validate-rules"])

    assert result.exit_code == 0, result.output
    assert f"{custom}: 0 rules valid; otherwise open with playbook wrong-price at SEV3" in result.output
