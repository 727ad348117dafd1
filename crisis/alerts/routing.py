"""Alert routing rules: which playbook, severity, triage and mode an inbound alert gets.

The rules live in a YAML file (default `alerts/routing.yaml`, or CRISIS_ALERT_RULES). Like a
playbook, the file is validated as a whole: every problem is reported with file, line, rule
and field, and a file with any problem yields no rules at all.

    defaults:   {playbook, mode, severity, triage_role, triage_owner}
    severity_map: {critical: SEV1, error: SEV2, warning: SEV3, info: SEV4}
    rules:
      - name: brand-account-new-location
        match: {alertname: BrandAccountNewLocation}      # exact value, or a list of values
        match_re: {source: "listening-.*"}               # full-match regular expressions
        playbook: account-takeover
        mode: open                                        # open at once, or pending a person
        severity: SEV1                                    # fixed; else mapped from the alert
        severity_map: {warning: SEV2}                     # per-rule overrides of the map
        triage_owner: lead@example.com                    # or triage_role: triage-lead

The first rule whose `match` and `match_re` all hold routes the alert; none: the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crisis.enums import SEVERITIES, ResponseRole
from crisis.yamlcheck import Path_, YamlChecker, YamlInvalid, YamlProblem, hint, kind, show

MODES = ("open", "pending")
DEFAULT_SEVERITY_MAP = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"}
KNOWN_ROLES = frozenset(role.value for role in ResponseRole)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")

TOP_KEYS = ("defaults", "severity_map", "rules")
DEFAULT_KEYS = ("playbook", "mode", "severity", "triage_role", "triage_owner")
RULE_KEYS = ("name", "match", "match_re", "playbook", "mode", "severity", "severity_map",
             "triage_role", "triage_owner")


class RuleProblem(YamlProblem):
    """A problem in the rules file; `rule` names the rule it is in (or `#n`)."""

    ITEM_WORD = "rule"

    @property
    def rule(self) -> str | None:
        return self.item


class RulesInvalid(YamlInvalid):
    """The routing rules file has problems; `problems` lists every one found."""

    WHAT = "invalid rules"


@dataclass(frozen=True)
class Route:
    """Where one alert goes."""

    rule: str
    playbook: str | None
    mode: str
    severity: str
    triage_owner: str | None = None
    triage_role: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    match_re: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    playbook: str | None = None
    mode: str | None = None
    severity: str | None = None
    severity_map: Mapping[str, str] = field(default_factory=dict)
    triage_owner: str | None = None
    triage_role: str | None = None

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Return whether every `match` and `match_re` condition holds for these attributes."""
        for key, accepted in self.match.items():
            if attributes.get(key) not in accepted:
                return False
        for key, pattern in self.match_re.items():
            value = attributes.get(key)
            if value is None or pattern.fullmatch(value) is None:
                return False
        return True


@dataclass(frozen=True)
class RuleSet:
    source: str
    defaults: Route
    severity_map: Mapping[str, str]
    rules: tuple[Rule, ...] = ()

    def route(self, attributes: Mapping[str, str], raw_severity: str = "") -> Route:
        """Return the route of the first matching rule, else the defaults."""
        rule = next((r for r in self.rules if r.matches(attributes)), None)
        if rule is None:
            return Route(
                rule="default",
                playbook=self.defaults.playbook,
                mode=self.defaults.mode,
                severity=self.map_severity(raw_severity, {}),
                triage_owner=self.defaults.triage_owner,
                triage_role=self.defaults.triage_role,
            )
        severity = rule.severity or self.map_severity(raw_severity, rule.severity_map)
        owner, role = rule.triage_owner, rule.triage_role
        if owner is None and role is None:
            owner, role = self.defaults.triage_owner, self.defaults.triage_role
        return Route(
            rule=rule.name,
            playbook=rule.playbook or self.defaults.playbook,
            mode=rule.mode or self.defaults.mode,
            severity=severity,
            triage_owner=owner,
            triage_role=role,
        )

    def map_severity(self, raw: str, overrides: Mapping[str, str]) -> str:
        """Map a source's severity word (critical, error...) to SEV1..SEV4; SEVn passes through."""
        word = (raw or "").strip().lower()
        if word.upper() in SEVERITIES:
            return word.upper()
        return overrides.get(word) or self.severity_map.get(word) or self.defaults.severity


BUILTIN_RULES = RuleSet(
    source="(built-in)",
    defaults=Route(rule="default", playbook=None, mode="pending", severity="SEV3",
                   triage_role=ResponseRole.TRIAGE_LEAD.value),
    severity_map=DEFAULT_SEVERITY_MAP,
)


def load_rules(path: str | Path, *, playbook_keys: Iterable[str] | None = None) -> RuleSet:
    """Read and validate a rules file; raise RulesInvalid listing every problem.

    With `playbook_keys`, every playbook a rule names must be one of them.
    """
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RulesInvalid([RuleProblem(source, None, None, None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise RulesInvalid([RuleProblem(source, None, None, None, f"not UTF-8 text: {exc}")]) from None
    except OSError as exc:
        raise RulesInvalid([RuleProblem(source, None, None, None, f"cannot read: {exc}")]) from None
    return parse_rules(text, source=source, playbook_keys=playbook_keys)


def parse_rules(text: str, *, source: str, playbook_keys: Iterable[str] | None = None) -> RuleSet:
    """Parse the text of a rules file; raise RulesInvalid listing every problem."""
    checker = _Checker(source, None if playbook_keys is None else set(playbook_keys))
    data = checker.compose(text)
    rules = checker.check(data)
    problems = checker.finish()
    if problems or rules is None:
        raise RulesInvalid(problems or [RuleProblem(source, None, None, None, "invalid rules")])
    return rules


class _Checker(YamlChecker):
    problem_class = RuleProblem
    invalid_class = RulesInvalid
    items_key = "rules"
    key_line_first = True

    def __init__(self, source: str, playbook_keys: set[str] | None) -> None:
        super().__init__(source)
        self.playbook_keys = playbook_keys

    # -- readers ----------------------------------------------------------------------

    def choice(self, value: Any, path: Path_, allowed: tuple[str, ...], what: str) -> str | None:
        if isinstance(value, str) and value in allowed:
            return value
        # SEV0 is as close to SEV1 as to SEV4: suggest only for words.
        suggestion = "" if allowed == SEVERITIES else hint(str(value), allowed)
        self.report(path, f"{what} must be one of {', '.join(allowed)}, got {show(value)}{suggestion}")
        return None

    def playbook(self, value: Any, path: Path_) -> str | None:
        if not isinstance(value, str) or not SLUG.match(value):
            self.report(path, f"playbook must be a playbook key such as viral-complaint, got {show(value)}")
            return None
        if self.playbook_keys is not None and value not in self.playbook_keys:
            known = ", ".join(sorted(self.playbook_keys)) or "none"
            self.report(path, f"unknown playbook '{value}' (known: {known}){hint(value, self.playbook_keys)}")
            return None
        return value

    def triage_role(self, value: Any, path: Path_) -> str | None:
        return self.role(value, path, "triage_role", KNOWN_ROLES)

    def email(self, value: Any, path: Path_) -> str | None:
        if isinstance(value, str) and EMAIL.match(value.strip()):
            return value.strip().lower()
        self.report(path, f"triage_owner must be an email address, got {show(value)}")
        return None

    def severity_map(self, value: Any, path: Path_) -> dict[str, str] | None:
        data = self.mapping(value, path, "severity_map")
        if data is None:
            return None
        result: dict[str, str] = {}
        for word, severity in data.items():
            checked = self.choice(severity, path + (word,), SEVERITIES, f"severity_map '{word}'")
            if checked is not None:
                result[word.strip().lower()] = checked
        return result

    def match(self, value: Any, path: Path_) -> dict[str, tuple[str, ...]]:
        data = self.mapping(value, path, "match")
        result: dict[str, tuple[str, ...]] = {}
        for key, accepted in (data or {}).items():
            items = accepted if isinstance(accepted, list) else [accepted]
            values: list[str] = []
            for i, item in enumerate(items):
                where = path + (key, i) if isinstance(accepted, list) else path + (key,)
                if isinstance(item, bool) or not isinstance(item, str | int | float):
                    self.report(where, f"match values must be text, got {kind(item)}")
                else:
                    values.append(str(item))
            if not items:
                self.report(path + (key,), "match values must not be an empty list")
            result[key] = tuple(values)
        return result

    def match_re(self, value: Any, path: Path_) -> dict[str, re.Pattern[str]]:
        data = self.mapping(value, path, "match_re")
        result: dict[str, re.Pattern[str]] = {}
        for key, pattern in (data or {}).items():
            if not isinstance(pattern, str):
                self.report(path + (key,), f"must be a regular expression as text, got {kind(pattern)}")
                continue
            try:
                result[key] = re.compile(pattern)
            except re.error as exc:
                self.report(path + (key,), f"is not a valid regular expression: {exc}")
        return result

    # -- the document -----------------------------------------------------------------

    def check(self, data: Any) -> RuleSet | None:
        top = self.mapping(data, (), "the rules file")
        if top is None:
            return None
        self.keys(top, (), TOP_KEYS, "the rules file")
        severity_map = dict(DEFAULT_SEVERITY_MAP)
        if "severity_map" in top:
            severity_map.update(self.severity_map(top["severity_map"], ("severity_map",)) or {})
        defaults = self.defaults(top.get("defaults", {}))
        rules: list[Rule] = []
        raw_rules = top.get("rules", [])
        if not isinstance(raw_rules, list):
            self.report(("rules",), f"rules must be a list of rules, got {kind(raw_rules)}")
            raw_rules = []
        for index, raw in enumerate(raw_rules):
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                self.item_names[index] = raw["name"]
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_rules):
            rule = self.rule(raw, ("rules", index))
            if rule is None:
                continue
            if rule.name in seen:
                self.report(("rules", index, "name"),
                            f"rule name '{rule.name}' is also used by rule #{seen[rule.name] + 1}")
                continue
            seen[rule.name] = index
            rules.append(rule)
        if defaults is None:
            return None
        return RuleSet(self.source, defaults, severity_map, tuple(rules))

    def defaults(self, value: Any) -> Route | None:
        path: Path_ = ("defaults",)
        data = self.mapping(value, path, "defaults")
        if data is None:
            return None
        self.keys(data, path, DEFAULT_KEYS, "defaults")
        playbook = self.playbook(data["playbook"], path + ("playbook",)) if "playbook" in data else None
        mode = self.choice(data.get("mode", "pending"), path + ("mode",), MODES, "mode") or "pending"
        severity = self.choice(data.get("severity", "SEV3"), path + ("severity",), SEVERITIES,
                               "severity") or "SEV3"
        owner = self.email(data["triage_owner"], path + ("triage_owner",)) if "triage_owner" in data else None
        role = self.triage_role(data["triage_role"], path + ("triage_role",)) if "triage_role" in data else None
        if owner is None and role is None and "triage_owner" not in data and "triage_role" not in data:
            role = ResponseRole.TRIAGE_LEAD.value
        if mode == "open" and playbook is None and "playbook" not in data:
            self.report(path + ("mode",), "mode 'open' needs a default playbook to open incidents from")
        return Route("default", playbook, mode, severity, owner, role)

    def rule(self, value: Any, path: Path_) -> Rule | None:
        data = self.mapping(value, path, "a rule")
        if data is None:
            return None
        self.keys(data, path, RULE_KEYS, "a rule")
        name = data.get("name")
        if "name" not in data:
            self.report(path + ("name",), "missing required key 'name' in a rule")
        elif not isinstance(name, str) or not SLUG.match(name) or len(name) > 64:
            self.report(path + ("name",),
                        f"name must be a slug (lowercase letters, digits, '-'), got {show(name)}")
            name = None
        if "match" not in data and "match_re" not in data:
            self.report(path, "a rule needs 'match' or 'match_re' (use defaults for everything else)")
        match = self.match(data["match"], path + ("match",)) if "match" in data else {}
        match_re = self.match_re(data["match_re"], path + ("match_re",)) if "match_re" in data else {}
        playbook = self.playbook(data["playbook"], path + ("playbook",)) if "playbook" in data else None
        mode = self.choice(data["mode"], path + ("mode",), MODES, "mode") if "mode" in data else None
        severity = (self.choice(data["severity"], path + ("severity",), SEVERITIES, "severity")
                    if "severity" in data else None)
        severity_map = (self.severity_map(data["severity_map"], path + ("severity_map",))
                        if "severity_map" in data else {})
        owner = self.email(data["triage_owner"], path + ("triage_owner",)) if "triage_owner" in data else None
        role = self.triage_role(data["triage_role"], path + ("triage_role",)) if "triage_role" in data else None
        if "triage_owner" in data and "triage_role" in data:
            self.report(path + ("triage_role",), "give triage_owner or triage_role, not both")
        if not isinstance(name, str):
            return None
        return Rule(name, match, match_re, playbook, mode, severity, severity_map or {}, owner, role)

