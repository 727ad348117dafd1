"""The one YAML checker behind playbooks and alert-routing rules.

A file is composed into a node tree first, so every value keeps the line it came from; the
checks then walk plain Python data and report problems by path. `finish()` turns each path
into file, line, item (the step or rule it is in) and field, so every problem reads the same
way whichever file it came from. A file with any problem yields nothing at all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path_ = tuple[str | int, ...]
# Far above any real file (the largest shipped playbook has about 400 values).
MAX_NODES = 20_000


@dataclass(frozen=True)
class YamlProblem:
    """One problem in a YAML file; `item` is the step or rule it is in, when there is one."""

    file: str
    line: int | None
    item: str | None
    field: str | None
    message: str

    ITEM_WORD: ClassVar[str] = "item"

    def __str__(self) -> str:
        parts = [self.file if self.line is None else f"{self.file}:{self.line}"]
        if self.item is not None:
            parts.append(f"{self.ITEM_WORD} '{self.item}'")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        return ": ".join(parts)


class YamlInvalid(Exception):
    """A YAML file has problems; `problems` lists every one found."""

    WHAT: ClassVar[str] = "invalid file"

    def __init__(self, problems: Iterable[YamlProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else self.WHAT
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(first + more)


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: `yes`/`no`/`on`/`off` stay text, `1:30` is not 90."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _INT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Loader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))


class _TooLarge(Exception):
    pass


class YamlChecker:
    """Compose a file with line marks, collect problems by path, and read typed values.

    Subclasses name their problem and error classes, the top-level list whose items are
    named in problems (`steps`, `rules`) and how an unnamed item is shown.
    """

    problem_class: ClassVar[type[YamlProblem]] = YamlProblem
    invalid_class: ClassVar[type[YamlInvalid]] = YamlInvalid
    items_key: ClassVar[str] = ""
    # Rules files report a key's own line, playbooks the line its value starts on.
    key_line_first: ClassVar[bool] = False

    def __init__(self, source: str) -> None:
        self.source = source
        self.loader: Loader | None = None
        self.lines: dict[Path_, int] = {}
        self.key_lines: dict[Path_, int] = {}
        self.item_names: dict[int, str] = {}
        self.problems: list[YamlProblem] = []
        self._raw: list[tuple[Path_, str, bool, int | None]] = []
        self._nodes = 0

    # -- reading the file ------------------------------------------------------------------

    def fail(self, line: int | None, message: str) -> YamlInvalid:
        return self.invalid_class([self.problem_class(self.source, line, None, None, message)])

    def compose(self, text: str) -> Any:
        """Return the file as plain data, remembering lines; raise for syntax or size."""
        loader = Loader(text)
        self.loader = loader
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise self.fail(None, "the file is nested too deeply") from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = "YAML syntax error: " + (exc.problem or "cannot parse")
            if exc.context:
                context = exc.context
                if exc.context_mark is not None and exc.context_mark is not mark:
                    context += f" started on line {exc.context_mark.line + 1}"
                message += f" ({context})"
            raise self.fail(mark.line + 1 if mark is not None else None, message) from None
        except yaml.YAMLError as exc:
            raise self.fail(None, f"YAML error: {exc}") from None
        finally:
            loader.dispose()
        if node is None:
            raise self.fail(1, "the file is empty")
        try:
            return self.convert(node, ())
        except (_TooLarge, RecursionError):
            raise self.fail(None, f"the file is too large or too deeply nested (more than {MAX_NODES} "
                            "values, or aliases that refer to themselves)") from None

    def convert(self, node: Node, path: Path_) -> Any:
        """Turn a node into plain data, remembering the line of every path."""
        assert self.loader is not None
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge  # alias expansion ("billion laughs") or a runaway file
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, MappingNode):
            result: dict[Any, Any] = {}
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    self.report(path, "a mapping key must be plain text")
                    continue
                key = str(self.loader.construct_object(key_node, deep=True))
                line = key_node.start_mark.line + 1
                if key in result:
                    self.report(path + (key,), f"duplicate key '{key}' (first on line {first_line[key]})",
                                line=line)
                    continue
                first_line[key] = line
                self.key_lines[path + (key,)] = line
                result[key] = self.convert(value_node, path + (key,))
            return result
        if isinstance(node, SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.report(path, f"cannot read value: {exc}")
            return None

    # -- reporting ---------------------------------------------------------------------------

    def report(self, path: Path_, message: str, *, at_key: bool = False, line: int | None = None) -> None:
        self._raw.append((path, message, at_key, line))

    def line_of(self, path: Path_, at_key: bool) -> int | None:
        if at_key and path in self.key_lines:
            return self.key_lines[path]
        probe = path
        while True:
            if self.key_line_first and probe in self.key_lines:
                return self.key_lines[probe]
            if probe in self.lines:
                return self.lines[probe]
            if probe in self.key_lines:
                return self.key_lines[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def unnamed_item(self, index: int) -> tuple[str | None, str]:
        """Return (item name, message prefix) for an item without a usable name."""
        return f"#{index + 1}", ""

    def field_part(self, rest: Path_, i: int) -> str:
        """Name a list index inside a field path (1-based unless a subclass knows better)."""
        part = rest[i]
        return str(part + 1) if isinstance(part, int) else part

    def where(self, path: Path_) -> tuple[str | None, str | None, str]:
        """Return (item name, field name, message prefix) for a path."""
        item, prefix, rest = None, "", path
        if self.items_key and len(path) >= 2 and path[0] == self.items_key and isinstance(path[1], int):
            item = self.item_names.get(path[1])
            if item is None:
                item, prefix = self.unnamed_item(path[1])
            rest = path[2:]
        parts = []
        for i, part in enumerate(rest):
            if isinstance(part, int) and i == len(rest) - 1:
                continue  # an item of a list of values; the message names the value
            parts.append(self.field_part(rest, i))
        return item, ".".join(parts) or None, prefix

    def finish(self) -> list[YamlProblem]:
        """Turn the reported paths into problems, once each, in line order."""
        seen = set(self.problems)
        for path, message, at_key, line in self._raw:
            item, field_name, prefix = self.where(path)
            problem = self.problem_class(self.source, line or self.line_of(path, at_key), item, field_name,
                                         prefix + message)
            if problem not in seen:
                seen.add(problem)
                self.problems.append(problem)
        self._raw.clear()
        self.problems.sort(key=lambda p: p.line or 0)
        return self.problems

    # -- small typed readers -------------------------------------------------------------------

    def keys(self, data: Mapping[str, Any], path: Path_, allowed: tuple[str, ...], what: str,
             required: tuple[str, ...] = ()) -> None:
        for key in data:
            if key not in allowed:
                self.report(path + (key,),
                            f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)}){hint(key, allowed)}",
                            at_key=True)
        for key in required:
            if key not in data:
                self.report(path + (key,), f"missing required key '{key}' in {what}")

    def mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.report(path, f"{what} must be a mapping of keys to values, got {kind(value)}")
        return None

    def role(self, value: Any, path: Path_, what: str, known: Iterable[str]) -> str | None:
        if not isinstance(value, str):
            self.report(path, f"{what} must be text, got {kind(value)}")
            return None
        if value not in known:
            self.report(path, f"unknown role '{value}'{hint(value, known)}")
            return None
        return value


def kind(value: Any) -> str:
    """Describe a value of the wrong type, showing text and numbers as they were written."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'"
    return f"{type(value).__name__} {value!r}"


def show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else kind(value)


def hint(value: str, options: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest option, or nothing."""
    matches = difflib.get_close_matches(str(value), sorted(options), n=1)
    return f"; did you mean '{matches[0]}'?" if matches else ""
