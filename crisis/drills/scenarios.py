"""Drill scenarios as code: `drills/*.yaml`, validated like playbooks (file, line, field).

A scenario names a playbook, a severity, triage answers and timed injects: things that happen
during the exercise, posted on the timeline and to the participants at their time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from crisis.errors import NotFound
from crisis.playbooks.definition import SEVERITIES, Playbook
from crisis.playbooks.validation import MAX_TITLE_LENGTH, PlaybookProblem
from crisis.playbooks.validation import load_directory as load_playbooks
from crisis.readiness.documents import ItemChecker, Loaded, load_directory

SCENARIO_KEYS = ("key", "title", "description", "playbook", "severity", "answers", "injects")
SCENARIO_REQUIRED = ("key", "title", "playbook", "severity", "injects")
INJECT_KEYS = ("key", "at", "title", "body", "roles")
INJECT_REQUIRED = ("key", "at", "title")


@dataclass(frozen=True)
class Inject:
    key: str
    at: timedelta
    title: str
    body: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    description: str
    playbook: str
    severity: str
    answers: dict[str, str]
    injects: tuple[Inject, ...]


class ScenarioChecker(ItemChecker):
    items = "injects"
    playbooks: dict[str, Playbook] = {}  # set per load: the playbooks a scenario may name

    def check(self, data: Any) -> Scenario | None:
        data = self.mapping(data, (), "a drill scenario")
        if data is None:
            return None
        self.keys(data, (), SCENARIO_KEYS, "a drill scenario", SCENARIO_REQUIRED)
        key = self.slug(data["key"], ("key",), "scenario key") if "key" in data else None
        title = self.text(data, "title", (), max_length=MAX_TITLE_LENGTH)
        description = self.text(data, "description", (), allow_empty=True) or ""
        playbook = self.playbook(data)
        severity = None
        if "severity" in data:
            severity = data["severity"] if data["severity"] in SEVERITIES else None
            if severity is None:
                self.report(("severity",), f"must be one of {', '.join(SEVERITIES)}, got {data['severity']!r}")
        answers = self.answers(data.get("answers", {}), playbook)
        injects = self.injects(data.get("injects"))
        if None in (key, title, playbook, severity, answers, injects):
            return None
        return Scenario(key, title, description, playbook.key, severity, answers, tuple(injects))

    def playbook(self, data: dict) -> Playbook | None:
        if "playbook" not in data:
            return None
        found = self.playbooks.get(data["playbook"]) if isinstance(data["playbook"], str) else None
        if found is None:
            known = ", ".join(sorted(self.playbooks)) or "none"
            self.report(("playbook",), f"no playbook '{data['playbook']}' (known: {known})")
        return found

    def answers(self, value: Any, playbook: Playbook | None) -> dict[str, str] | None:
        value = self.mapping(value, ("answers",), "answers")
        if value is None:
            return None
        ok = True
        known = {q.key: q for q in playbook.questions} if playbook is not None else {}
        for question, choice in value.items():
            if playbook is None:
                continue
            if question not in known:
                self.report(("answers", question), f"playbook '{playbook.key}' asks no question '{question}' (asks: {', '.join(known) or 'none'})", at_key=True)
                ok = False
            elif choice not in known[question].choices:
                self.report(("answers", question), f"'{choice}' is not a choice of '{question}' (choices: {', '.join(known[question].choices)})")
                ok = False
        return {str(q): str(c) for q, c in value.items()} if ok else None

    def injects(self, value: Any) -> list[Inject] | None:
        if not isinstance(value, list) or not value:
            self.report(("injects",), "must be a non-empty list of injects")
            return None
        result: list[Inject] = []
        seen: set[str] = set()
        ok = True
        for i, item in enumerate(value):
            path = ("injects", i)
            item = self.mapping(item, path, "an inject")
            if item is None:
                ok = False
                continue
            if isinstance(item.get("key"), str):
                self.item_keys[i] = item["key"]
            self.keys(item, path, INJECT_KEYS, "an inject", INJECT_REQUIRED)
            key = self.slug(item["key"], path + ("key",), "inject key") if "key" in item else None
            if key is not None and key in seen:
                self.report(path + ("key",), f"inject key '{key}' is used twice")
                key = None
            at = self.duration(item["at"], path + ("at",), allow_zero=True) if "at" in item else None
            title = self.text(item, "title", path, max_length=MAX_TITLE_LENGTH)
            body = self.text(item, "body", path, allow_empty=True) or ""
            roles: list[str] = []
            if "roles" in item:
                listed = self.text_list(item["roles"], path + ("roles",), "roles") or []
                roles = [r for j, r in enumerate(listed) if self.known_role(r, path + ("roles", j), "role")]
            if None in (key, at, title):
                ok = False
                continue
            seen.add(key)
            result.append(Inject(key, at, title, body, tuple(roles)))
        return sorted(result, key=lambda inject: inject.at) if ok else None


def load_scenarios(path: str | Path, *, playbooks_dir: str | Path) -> tuple[list[Loaded], list[PlaybookProblem]]:
    """Load every scenario file of a directory against the playbooks it may name."""
    loaded_playbooks, _ = load_playbooks(playbooks_dir)
    checker = type("Checker", (ScenarioChecker,), {"playbooks": {lp.playbook.key: lp.playbook for lp in loaded_playbooks}})
    return load_directory(path, checker=checker, key=lambda scenario: scenario.key, what="scenario")


def scenarios() -> dict[str, Scenario]:
    """Return the valid scenarios of the configured directory, by key."""
    loaded, _ = load_scenarios(current_app.config["DRILLS_DIR"], playbooks_dir=current_app.config["PLAYBOOKS_DIR"])
    return {item.value.key: item.value for item in loaded}


def get_scenario(key: str) -> Scenario:
    """Return one scenario or raise NotFound naming the known ones."""
    found = scenarios().get(key)
    if found is None:
        raise NotFound(f"No drill scenario '{key}' (known: {', '.join(sorted(scenarios())) or 'none'})", field="scenario")
    return found
