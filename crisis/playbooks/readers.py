"""Playbook problems and the small typed readers every playbook check uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from crisis.enums import SEVERITIES, ResponseRole
from crisis.playbooks.durations import parse_duration
from crisis.yamlcheck import Path_, YamlChecker, YamlInvalid, YamlProblem, kind, show

KNOWN_ROLES: frozenset[str] = frozenset(role.value for role in ResponseRole)

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MAX_KEY_LENGTH = 64
MAX_TITLE_LENGTH = 200


class PlaybookProblem(YamlProblem):
    """A problem in a playbook file; `step` names the step it is in, when there is one."""

    ITEM_WORD = "step"

    @property
    def step(self) -> str | None:
        return self.item


class PlaybookInvalid(YamlInvalid):
    """A playbook file has problems; `problems` lists every one found."""

    WHAT = "invalid playbook"


class PlaybookReaders(YamlChecker):
    problem_class = PlaybookProblem
    invalid_class = PlaybookInvalid
    items_key = "steps"

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._question_keys: dict[int, str] = {}

    def unnamed_item(self, index: int) -> tuple[str | None, str]:
        return None, f"step #{index + 1}: "

    def field_part(self, rest: Path_, i: int) -> str:
        part = rest[i]
        if isinstance(part, int) and i > 0 and rest[i - 1] == "questions" and part in self._question_keys:
            return self._question_keys[part]
        return super().field_part(rest, i)

    def text(self, data: Mapping[str, Any], key: str, path: Path_, *, max_length: int = 0,
             allow_empty: bool = False) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, str):
            self.report(path + (key,), f"must be text, got {kind(value)}")
            return None
        if not allow_empty and not value.strip():
            self.report(path + (key,), "must not be empty")
            return None
        if max_length and len(value) > max_length:
            self.report(path + (key,), f"is longer than {max_length} characters")
            return None
        return value

    def slug(self, value: Any, path: Path_, what: str) -> str | None:
        if not isinstance(value, str):
            self.report(path, f"{what} must be text, got {kind(value)}")
            return None
        if len(value) > MAX_KEY_LENGTH:
            self.report(path, f"{what} '{value}' is longer than {MAX_KEY_LENGTH} characters")
            return None
        if not SLUG.match(value):
            self.report(
                path,
                f"{what} '{value}' is not a slug (lowercase letters, digits, '-' or '_', "
                "e.g. gather-facts)",
            )
            return None
        return value

    def text_list(self, value: Any, path: Path_, what: str, *, allow_empty: bool = False
                  ) -> list[str] | None:
        if not isinstance(value, list):
            self.report(path, f"{what} must be a list, e.g. [a, b], got {kind(value)}")
            return None
        if not value and not allow_empty:
            self.report(path, f"{what} must not be empty")
            return None
        result = []
        ok = True
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.report(path + (i,), f"{what} entries must be non-empty text, got {kind(item)}")
                ok = False
            elif item in result:
                self.report(path + (i,), f"'{item}' is listed twice in {what}")
                ok = False
            else:
                result.append(item)
        return result if ok else None

    def duration(self, value: Any, path: Path_, *, allow_zero: bool = False) -> timedelta | None:
        try:
            return parse_duration(value, allow_zero=allow_zero)
        except ValueError as exc:
            self.report(path, str(exc))
            return None

    def known_role(self, value: Any, path: Path_, what: str) -> str | None:
        return self.role(value, path, what, KNOWN_ROLES)

    def boolean(self, data: Mapping[str, Any], key: str, path: Path_, default: bool) -> bool:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            self.report(path + (key,), f"must be true or false, got {show(value)}")
            return default
        return value

    def severity(self, value: Any, path: Path_) -> str | None:
        if value in SEVERITIES:
            return value
        self.report(path, f"unknown severity {show(value)} (use one of {', '.join(SEVERITIES)})")
        return None
