"""Parse and validate playbook YAML, reporting every problem with file, line, step and field.

The YAML is composed into a node tree first, so every value keeps the line it came from;
the checks then walk plain Python data and look lines up by path. A file with any problem
produces no playbook at all.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from crisis.enums import ResponseRole
from crisis.playbooks.definition import (
    CHANNELS,
    ROLE_TARGET_PREFIX,
    SEVERITIES,
    TEMPLATE_FIELDS,
    TRIGGER_TARGETS,
    Condition,
    EscalationLevel,
    EscalationPolicy,
    NotifySettings,
    Playbook,
    StepDef,
    TriageQuestion,
    placeholders,
)
from crisis.playbooks.durations import parse_duration

KNOWN_ROLES: frozenset[str] = frozenset(role.value for role in ResponseRole)

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MAX_KEY_LENGTH = 64
MAX_TITLE_LENGTH = 200

TOP_KEYS = ("key", "title", "description", "default_severity", "triage_role", "questions",
            "escalation", "notifications", "steps")
TOP_REQUIRED = ("key", "title", "description", "default_severity", "escalation", "steps")
QUESTION_KEYS = ("key", "prompt", "choices")
ESCALATION_KEYS = ("levels", "repeat_every", "acknowledge_snooze")
LEVEL_KEYS = ("after", "notify", "channels")
NOTIFICATION_KEYS = ("remind_before", "sponsor_on_declare")
# A reminder sooner than this before the due time would arrive with the escalation itself.
MIN_REMIND_BEFORE = timedelta(minutes=1)
STEP_KEYS = ("key", "title", "guidance", "role", "due", "after", "when", "approval", "template",
             "checklist", "required", "publishes")
STEP_REQUIRED = ("key", "title", "guidance", "role", "due")
WHEN_KEYS = ("severity", "answers")
DEFAULT_ACKNOWLEDGE_SNOOZE = timedelta(minutes=15)

Path_ = tuple[str | int, ...]
# Far above any real playbook (the largest shipped one has about 400 values).
MAX_NODES = 20_000


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class PlaybookProblem:
    file: str
    line: int | None
    step: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.step is not None:
            parts.append(f"step '{self.step}'")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(self.message)
        return ": ".join(parts)


class PlaybookInvalid(Exception):
    """A playbook file has problems; `problems` lists every one found."""

    def __init__(self, problems: Iterable[PlaybookProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else "invalid playbook"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(first + more)


@dataclass
class LoadedPlaybook:
    playbook: Playbook
    content_hash: str
    source: str


def content_hash(text: str | bytes) -> str:
    """Return the sha256 hex digest of the file bytes (text is hashed as UTF-8)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: `yes`/`no`/`on`/`off` stay text, `1:30` is not 90."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _INT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))


def parse_playbook(text: str, *, source: str) -> Playbook:
    """Parse one playbook file's text; raise PlaybookInvalid listing every problem."""
    playbook, _ = _parse(text, source=source)
    return playbook


def load_directory(path: str | Path) -> tuple[list[LoadedPlaybook], list[PlaybookProblem]]:
    """Load every *.yaml / *.yml file in a directory; a file with any problem loads nothing."""
    directory = Path(path)
    if not directory.is_dir():
        return [], [PlaybookProblem(str(directory), None, None, None, "no such directory")]
    files = sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml")
    )
    if not files:
        # Almost always a wrong path or a failed checkout; syncing it would retire every playbook.
        return [], [PlaybookProblem(str(directory), None, None, None, "no playbook files (*.yaml, *.yml) here")]
    loaded: list[tuple[LoadedPlaybook, int | None]] = []
    problems: list[PlaybookProblem] = []
    for file in files:
        source = str(file)
        try:
            raw = file.read_bytes()
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(PlaybookProblem(source, None, None, None, f"not UTF-8 text: {exc}"))
            continue
        except OSError as exc:
            problems.append(PlaybookProblem(source, None, None, None, f"cannot read: {exc}"))
            continue
        try:
            playbook, key_line = _parse(text, source=source)
        except PlaybookInvalid as exc:
            problems.extend(exc.problems)
            continue
        loaded.append((LoadedPlaybook(playbook, content_hash(raw), source), key_line))

    by_key: dict[str, list[tuple[LoadedPlaybook, int | None]]] = defaultdict(list)
    for item in loaded:
        by_key[item[0].playbook.key].append(item)
    result = []
    for key, group in by_key.items():
        if len(group) == 1:
            result.append(group[0][0])
            continue
        for item, line in group:
            others = ", ".join(o.source for o, _ in group if o is not item)
            problems.append(
                PlaybookProblem(
                    item.source, line, None, "key", f"playbook key '{key}' is also used by {others}"
                )
            )
    result.sort(key=lambda lp: lp.source)
    return result, problems


def _parse(text: str, *, source: str) -> tuple[Playbook, int | None]:
    checker, data = read_document(text, source=source, checker=_Checker)
    playbook = checker.check(data)
    if checker.problems or playbook is None:
        raise PlaybookInvalid(checker.problems)
    return playbook, checker.lines.get(("key",))


def read_document(text: str, *, source: str, checker: type[_Checker]) -> tuple[Any, Any]:
    """Compose one YAML file into (checker, plain data) with every value's line remembered.

    Other files-as-code (training courses, drill scenarios) pass their own `_Checker` subclass;
    YAML errors, empty and oversized files raise PlaybookInvalid here, for all of them alike.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except RecursionError:
        raise PlaybookInvalid(
            [PlaybookProblem(source, None, None, None, "the file is nested too deeply")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = "YAML syntax error: " + (exc.problem or "cannot parse")
        if exc.context:
            context = exc.context
            if exc.context_mark is not None and exc.context_mark is not mark:
                context += f" started on line {exc.context_mark.line + 1}"
            message += f" ({context})"
        line = mark.line + 1 if mark is not None else None
        raise PlaybookInvalid([PlaybookProblem(source, line, None, None, message)]) from None
    except yaml.YAMLError as exc:
        raise PlaybookInvalid(
            [PlaybookProblem(source, None, None, None, f"YAML error: {exc}")]
        ) from None
    finally:
        loader.dispose()
    if node is None:
        raise PlaybookInvalid([PlaybookProblem(source, 1, None, None, "the file is empty")])
    reader = checker(source, loader)
    try:
        data = reader.convert(node, ())
    except (_TooLarge, RecursionError):
        raise PlaybookInvalid([PlaybookProblem(
            source, None, None, None,
            f"the file is too large or too deeply nested (more than {MAX_NODES} values, or "
            "aliases that refer to themselves)",
        )]) from None
    return reader, data


@dataclass
class _StepInfo:
    index: int
    key: str | None = None
    title: str | None = None
    guidance: str | None = None
    role: str | None = None
    due: timedelta | None = None
    due_by_severity: dict[str, timedelta] = field(default_factory=dict)
    after: list[str] = field(default_factory=list)
    when: Condition | None = None
    when_given: bool = False
    dead_reason: str | None = None  # why the `when` can never match, if it cannot
    approval: list[str] = field(default_factory=list)
    template: str | None = None
    checklist: list[str] = field(default_factory=list)
    required: bool = True
    publishes: bool = False


class _Checker:
    def __init__(self, source: str, loader: _Loader) -> None:
        self.source = source
        self.loader = loader
        self.lines: dict[Path_, int] = {}
        self.key_lines: dict[Path_, int] = {}
        self._raw: list[tuple[Path_, str, bool, int | None]] = []
        self._step_keys: dict[int, str] = {}
        self._question_keys: dict[int, str] = {}
        self.problems: list[PlaybookProblem] = []
        self._nodes = 0

    # -- building data with lines --------------------------------------------------------

    def convert(self, node: Node, path: Path_) -> Any:
        """Turn a node into plain data, remembering the line of every path."""
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
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    key = str(key)
                line = key_node.start_mark.line + 1
                if key in result:
                    self.report(path + (key,),
                                f"duplicate key '{key}' (first on line {first_line[key]})",
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

    # -- reporting -----------------------------------------------------------------------

    def report(self, path: Path_, message: str, *, at_key: bool = False,
               line: int | None = None) -> None:
        self._raw.append((path, message, at_key, line))

    def _line(self, path: Path_, at_key: bool) -> int | None:
        if at_key and path in self.key_lines:
            return self.key_lines[path]
        probe = path
        while True:
            if probe in self.lines:
                return self.lines[probe]
            if probe in self.key_lines:
                return self.key_lines[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def _where(self, path: Path_) -> tuple[str | None, str | None, str]:
        """Return (step key, field name, message prefix) for a path."""
        prefix = ""
        step = None
        rest: Path_ = path
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            step = self._step_keys.get(path[1])
            if step is None:
                prefix = f"step #{path[1] + 1}: "
            rest = path[2:]
        parts: list[str] = []
        for i, part in enumerate(rest):
            if isinstance(part, int):
                if i == len(rest) - 1:
                    continue  # an item of a list of values; the message names the value
                if i > 0 and rest[i - 1] == "questions" and part in self._question_keys:
                    parts.append(self._question_keys[part])
                else:
                    parts.append(str(part + 1))
            else:
                parts.append(part)
        return step, ".".join(parts) or None, prefix

    def finish(self) -> None:
        seen = set()
        for path, message, at_key, line in self._raw:
            step, field_name, prefix = self._where(path)
            problem = PlaybookProblem(
                self.source, line or self._line(path, at_key), step, field_name, prefix + message
            )
            if problem not in seen:
                seen.add(problem)
                self.problems.append(problem)
        self.problems.sort(key=lambda p: (p.line or 0))

    # -- small typed readers -------------------------------------------------------------

    def keys(
        self, data: Mapping[str, Any], path: Path_, allowed: tuple[str, ...],
        required: tuple[str, ...], what: str,
    ) -> None:
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
                self.report(
                    path + (key,),
                    f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)}){suggestion}",
                    at_key=True,
                )
        for key in required:
            if key not in data:
                self.report(path + (key,), f"missing required key '{key}' in {what}")

    def mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.report(path, f"{what} must be a mapping of keys to values, got {_kind(value)}")
        return None

    def text(self, data: Mapping[str, Any], key: str, path: Path_, *, max_length: int = 0,
             allow_empty: bool = False) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, str):
            self.report(path + (key,), f"must be text, got {_kind(value)}")
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
            self.report(path, f"{what} must be text, got {_kind(value)}")
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
            self.report(path, f"{what} must be a list, e.g. [a, b], got {_kind(value)}")
            return None
        if not value and not allow_empty:
            self.report(path, f"{what} must not be empty")
            return None
        result = []
        ok = True
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.report(path + (i,), f"{what} entries must be non-empty text, got {_kind(item)}")
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

    def role(self, value: Any, path: Path_, what: str) -> str | None:
        if not isinstance(value, str):
            self.report(path, f"{what} must be text, got {_kind(value)}")
            return None
        if value not in KNOWN_ROLES:
            self.report(path, f"unknown role '{value}'{_hint(value, KNOWN_ROLES)}")
            return None
        return value

    def boolean(self, data: Mapping[str, Any], key: str, path: Path_, default: bool) -> bool:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            self.report(path + (key,), f"must be true or false, got {_show(value)}")
            return default
        return value

    # -- the playbook --------------------------------------------------------------------

    def check(self, data: Any) -> Playbook | None:
        root = self.mapping(data, (), "a playbook file")
        if root is None:
            self.finish()
            return None
        self.keys(root, (), TOP_KEYS, TOP_REQUIRED, "the playbook")
        key = self.slug(root["key"], ("key",), "playbook key") if "key" in root else None
        title = self.text(root, "title", (), max_length=MAX_TITLE_LENGTH)
        description = self.text(root, "description", (), allow_empty=True)
        default_severity = None
        if "default_severity" in root:
            default_severity = self.severity(root["default_severity"], ("default_severity",))
        triage_role = "triage-lead"
        if "triage_role" in root:
            triage_role = self.role(root["triage_role"], ("triage_role",), "triage_role")
        questions = self.questions(root.get("questions", []))
        escalation = self.escalation(root["escalation"]) if "escalation" in root else None
        notifications = self.notifications(root["notifications"]) if "notifications" in root else NotifySettings()
        steps = self.steps(root.get("steps"), questions) if "steps" in root else []
        self.finish()
        if self.problems:
            return None
        if not (key and title and default_severity and triage_role and escalation):
            # Unreachable: each of these is reported above when missing or invalid.
            self.problems.append(PlaybookProblem(self.source, None, None, None, "incomplete"))
            return None
        return Playbook(
            key=key,
            title=title,
            description=(description or "").strip(),
            default_severity=default_severity,
            triage_role=triage_role,
            questions=tuple(questions.values()),
            escalation=escalation,
            notifications=notifications or NotifySettings(),
            steps=tuple(steps),
        )

    def severity(self, value: Any, path: Path_) -> str | None:
        if value in SEVERITIES:
            return value
        self.report(path, f"unknown severity {_show(value)} (use one of {', '.join(SEVERITIES)})")
        return None

    def questions(self, value: Any) -> dict[str, TriageQuestion]:
        path: Path_ = ("questions",)
        result: dict[str, TriageQuestion] = {}
        if value is None:
            return result
        if not isinstance(value, list):
            self.report(path, f"questions must be a list, got {_kind(value)}")
            return result
        for i, item in enumerate(value):
            item_path = path + (i,)
            question = self.mapping(item, item_path, f"question #{i + 1}")
            if question is None:
                continue
            self.keys(question, item_path, QUESTION_KEYS, QUESTION_KEYS, "a question")
            key = None
            if "key" in question:
                key = self.slug(question["key"], item_path + ("key",), "question key")
            if key is not None:
                self._question_keys[i] = key
                if key in result:
                    self.report(item_path + ("key",), f"duplicate question key '{key}'")
                    key = None
            prompt = self.text(question, "prompt", item_path)
            choices = None
            if "choices" in question:
                choices = self.text_list(question["choices"], item_path + ("choices",), "choices")
                if choices is not None and len(choices) < 2:
                    self.report(item_path + ("choices",), "a question needs at least two choices")
                    choices = None
            if key is not None and prompt is not None and choices is not None:
                result[key] = TriageQuestion(key=key, prompt=prompt, choices=tuple(choices))
            elif key is not None:
                # Keep the key known so steps naming it are not reported a second time.
                result[key] = TriageQuestion(key=key, prompt=prompt or "", choices=())
        return result

    def escalation(self, value: Any) -> EscalationPolicy | None:
        path: Path_ = ("escalation",)
        data = self.mapping(value, path, "escalation")
        if data is None:
            return None
        self.keys(data, path, ESCALATION_KEYS, ("levels",), "escalation")
        levels: list[EscalationLevel] = []
        ok = True
        raw_levels = data.get("levels")
        if "levels" in data and (not isinstance(raw_levels, list) or not raw_levels):
            self.report(path + ("levels",), "levels must be a non-empty list of levels")
            ok = False
            raw_levels = []
        previous: timedelta | None = None
        for i, item in enumerate(raw_levels or []):
            level_path = path + ("levels", i)
            level = self.mapping(item, level_path, f"escalation level {i + 1}")
            if level is None:
                ok = False
                continue
            self.keys(level, level_path, LEVEL_KEYS, LEVEL_KEYS, f"escalation level {i + 1}")
            after = None
            if "after" in level:
                after = self.duration(level["after"], level_path + ("after",), allow_zero=True)
                if after is not None and previous is not None and after <= previous:
                    self.report(
                        level_path + ("after",),
                        f"level {i + 1} must fire later than level {i} "
                        "(levels are in order of increasing 'after')",
                    )
                if after is not None:
                    previous = after
            notify = None
            if "notify" in level:
                notify = self.text_list(level["notify"], level_path + ("notify",), "notify")
                for j, target in enumerate(notify or []):
                    if not self.target(target, level_path + ("notify", j)):
                        notify = None
            channels = None
            if "channels" in level:
                channels = self.text_list(level["channels"], level_path + ("channels",), "channels")
                for j, channel in enumerate(channels or []):
                    if channel not in CHANNELS:
                        self.report(
                            level_path + ("channels", j),
                            f"unknown channel '{channel}' (use {', '.join(sorted(CHANNELS))})",
                        )
                        channels = None
            if after is None or notify is None or channels is None:
                ok = False
                continue
            levels.append(EscalationLevel(after=after, notify=tuple(notify),
                                          channels=tuple(channels)))
        repeat_every = None
        if "repeat_every" in data and data["repeat_every"] is not None:
            repeat_every = self.duration(data["repeat_every"], path + ("repeat_every",))
            ok = ok and repeat_every is not None
        snooze = DEFAULT_ACKNOWLEDGE_SNOOZE
        if "acknowledge_snooze" in data:
            parsed = self.duration(data["acknowledge_snooze"], path + ("acknowledge_snooze",))
            ok = ok and parsed is not None
            snooze = parsed or snooze
        if not ok or not levels:
            return None
        return EscalationPolicy(levels=tuple(levels), repeat_every=repeat_every,
                                acknowledge_snooze=snooze)

    def notifications(self, value: Any) -> NotifySettings | None:
        """Check the `notifications` block: `remind_before` (a duration or off), `sponsor_on_declare`."""
        path: Path_ = ("notifications",)
        data = self.mapping(value, path, "notifications")
        if data is None:
            return None
        self.keys(data, path, NOTIFICATION_KEYS, (), "notifications")
        settings = NotifySettings()
        remind: timedelta | None = settings.remind_before
        if "remind_before" in data:
            raw = data["remind_before"]
            # YAML reads a bare `off` as False.
            if raw is False or raw == "off":
                remind = None
            else:
                remind = self.duration(raw, path + ("remind_before",))
                if remind is not None and remind < MIN_REMIND_BEFORE:
                    self.report(path + ("remind_before",),
                                f"remind_before must be at least {int(MIN_REMIND_BEFORE.total_seconds())}s "
                                "(or off for no reminders)")
                    remind = None
                if remind is None:
                    return None
        sponsor = settings.sponsor_on_declare
        if "sponsor_on_declare" in data:
            listed = self.text_list(data["sponsor_on_declare"], path + ("sponsor_on_declare",),
                                    "sponsor_on_declare", allow_empty=True)
            if listed is None:
                return None
            for j, severity in enumerate(listed):
                if self.severity(severity, path + ("sponsor_on_declare", j)) is None:
                    return None
            sponsor = tuple(listed)
        return NotifySettings(remind_before=remind, sponsor_on_declare=sponsor)

    def target(self, target: str, path: Path_) -> bool:
        if target in TRIGGER_TARGETS:
            return True
        if target.startswith(ROLE_TARGET_PREFIX):
            role = target[len(ROLE_TARGET_PREFIX):]
            if role in KNOWN_ROLES:
                return True
            self.report(path, f"unknown role '{role}' in notify target '{target}'"
                        f"{_hint(role, KNOWN_ROLES)}")
            return False
        options = ", ".join(sorted(TRIGGER_TARGETS)) + ", role:<role>"
        self.report(path, f"unknown notify target '{target}' (use {options})"
                    f"{_hint(target, TRIGGER_TARGETS)}")
        return False

    # -- steps ---------------------------------------------------------------------------

    def steps(self, value: Any, questions: Mapping[str, TriageQuestion]) -> list[StepDef]:
        path: Path_ = ("steps",)
        if not isinstance(value, list):
            self.report(path, f"steps must be a list of steps, got {_kind(value)}")
            return []
        if not value:
            self.report(path, "a playbook needs at least one step")
            return []
        infos: list[_StepInfo] = []
        first_index: dict[str, int] = {}
        # Keys first, so every later problem can name its step.
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                self._step_keys.setdefault(i, item["key"])
        for i, item in enumerate(value):
            info = self.step(i, item, questions)
            if info is None:
                continue
            if info.key is not None:
                if info.key in first_index:
                    first_line = self.lines.get(("steps", first_index[info.key], "key"))
                    self.report(("steps", i, "key"),
                                f"duplicate step key '{info.key}' (first defined on line "
                                f"{first_line})")
                    continue
                first_index[info.key] = i
            infos.append(info)
        self.graph(infos, first_index)
        return [
            StepDef(
                key=info.key or "",
                title=info.title or "",
                guidance=info.guidance or "",
                role=info.role or "",
                due=info.due or timedelta(0),
                due_by_severity=info.due_by_severity,
                after=tuple(info.after),
                when=info.when,
                approval=tuple(info.approval),
                template=info.template,
                checklist=tuple(info.checklist),
                required=info.required,
                publishes=info.publishes,
            )
            for info in infos
        ]

    def step(self, i: int, item: Any, questions: Mapping[str, TriageQuestion]
             ) -> _StepInfo | None:
        path: Path_ = ("steps", i)
        data = self.mapping(item, path, "a step")
        if data is None:
            return None
        self.keys(data, path, STEP_KEYS, STEP_REQUIRED, "a step")
        info = _StepInfo(index=i)
        if "key" in data:
            info.key = self.slug(data["key"], path + ("key",), "step key")
            if info.key is None:
                self._step_keys.pop(i, None)
        info.title = self.text(data, "title", path, max_length=MAX_TITLE_LENGTH)
        info.guidance = self.text(data, "guidance", path)
        if "role" in data:
            info.role = self.role(data["role"], path + ("role",), "role")
        if "due" in data:
            self.due(data["due"], path + ("due",), info)
        if "after" in data:
            info.after = self.text_list(data["after"], path + ("after",), "after") or []
        if "when" in data:
            info.when_given = True
            info.when = self.when(data["when"], path + ("when",), questions, info)
        if "approval" in data:
            approval = self.text_list(data["approval"], path + ("approval",), "approval") or []
            for j, role in enumerate(approval):
                if self.role(role, path + ("approval", j), "approval role"):
                    info.approval.append(role)
        if "template" in data:
            info.template = self.text(data, "template", path)
            for name in dict.fromkeys(placeholders(info.template or "")):
                if name not in TEMPLATE_FIELDS:
                    self.report(
                        path + ("template",),
                        f"placeholder {{{name}}} is not filled by anything"
                        f"{_hint(name, TEMPLATE_FIELDS)} (known: "
                        f"{', '.join(sorted(TEMPLATE_FIELDS))})",
                    )
        if "checklist" in data:
            info.checklist = self.text_list(data["checklist"], path + ("checklist",),
                                            "checklist") or []
        info.required = self.boolean(data, "required", path, True)
        info.publishes = self.boolean(data, "publishes", path, False)
        if info.publishes and info.role is not None and info.role != ResponseRole.SPOKESPERSON:
            self.report(path + ("role",),
                        "a step that publishes a statement must belong to the spokesperson "
                        f"role, not '{info.role}'")
        return info

    def due(self, value: Any, path: Path_, info: _StepInfo) -> None:
        if not isinstance(value, dict):
            info.due = self.duration(value, path)
            return
        for key, raw in value.items():
            if key == "default":
                info.due = self.duration(raw, path + (key,))
            elif key in SEVERITIES:
                parsed = self.duration(raw, path + (key,))
                if parsed is not None:
                    info.due_by_severity[key] = parsed
            else:
                self.report(path + (key,),
                            f"unknown severity '{key}' in due (use {', '.join(SEVERITIES)} "
                            "or default)", at_key=True)
        if "default" not in value:
            if all(s in value for s in SEVERITIES):
                info.due = info.due_by_severity.get("SEV4")
            else:
                self.report(path, "due per severity needs a 'default' unless it lists "
                            "SEV1, SEV2, SEV3 and SEV4")

    def when(self, value: Any, path: Path_, questions: Mapping[str, TriageQuestion],
             info: _StepInfo) -> Condition | None:
        data = self.mapping(value, path, "when")
        if data is None:
            return None
        self.keys(data, path, WHEN_KEYS, (), "when")
        if not any(k in data for k in WHEN_KEYS):
            self.report(path, "when must name a severity list, answers, or both")
            return None
        severities: list[str] = []
        answers: dict[str, tuple[str, ...]] = {}
        ok = True
        if "severity" in data:
            listed = self.text_list(data["severity"], path + ("severity",), "when.severity")
            if listed is None:
                ok = False
                info.dead_reason = "its severity list is unusable"
            for j, severity in enumerate(listed or []):
                if severity in SEVERITIES:
                    severities.append(severity)
                else:
                    ok = False
                    self.report(path + ("severity", j),
                                f"unknown severity '{severity}' (use {', '.join(SEVERITIES)})")
            if listed and not severities:
                info.dead_reason = "none of its severities exist"
                self.report(path + ("severity",),
                            "the step can never become active: no listed severity exists")
        if "answers" in data:
            raw = self.mapping(data["answers"], path + ("answers",), "when.answers")
            if raw is None:
                ok = False
            elif not raw:
                ok = False
                self.report(path + ("answers",), "when.answers must name at least one question")
            for question_key, accepted in (raw or {}).items():
                qpath = path + ("answers", question_key)
                question = questions.get(question_key)
                if question is None:
                    ok = False
                    info.dead_reason = f"it depends on unknown question '{question_key}'"
                    self.report(
                        qpath,
                        f"the step can never become active: unknown question '{question_key}'"
                        f"{_hint(question_key, questions)}"
                        + (f" (questions: {', '.join(questions)})" if questions else
                           " (the playbook has no questions)"),
                        at_key=True,
                    )
                    continue
                values = self.text_list(accepted, qpath, f"accepted answers to '{question_key}'")
                if values is None:
                    ok = False
                    continue
                valid = []
                for j, answer in enumerate(values):
                    if question.choices and answer not in question.choices:
                        ok = False
                        self.report(
                            qpath + (j,),
                            f"'{answer}' is not a choice of question '{question_key}' "
                            f"({', '.join(question.choices)}){_hint(answer, question.choices)}",
                        )
                    else:
                        valid.append(answer)
                if not valid and question.choices:
                    info.dead_reason = f"no accepted answer to '{question_key}' is a choice"
                    self.report(qpath, "the step can never become active: no accepted answer "
                                f"to '{question_key}' is one of its choices", at_key=True)
                answers[question_key] = tuple(valid)
        if not ok:
            return None
        return Condition(severities=tuple(severities), answers=answers)

    def graph(self, infos: list[_StepInfo], first_index: Mapping[str, int]) -> None:
        """Check `after`: known keys, no cycles, nothing after a step that can never run."""
        by_key = {info.key: info for info in infos if info.key is not None}
        edges: dict[str, list[str]] = {}
        for info in infos:
            if info.key is None:
                continue
            edges[info.key] = []
            for j, name in enumerate(info.after):
                path = ("steps", info.index, "after", j)
                if name == info.key:
                    self.report(path, f"step '{name}' is after itself (cycle: {name} -> {name})")
                elif name not in by_key:
                    self.report(path, f"unknown step '{name}' in after{_hint(name, by_key)}")
                else:
                    edges[info.key].append(name)

        in_cycle = self.cycles(edges, by_key)

        # A step is dead when its `when` can never match, or it is after a dead step.
        dead: dict[str, str] = {}
        for info in infos:
            if info.key is not None and info.dead_reason:
                dead[info.key] = info.dead_reason
        for key in in_cycle:
            dead.setdefault(key, "it is part of a cycle")
        order = _topological(edges)
        for key in order:
            info = by_key[key]
            for j, name in enumerate(info.after):
                if name in dead and key not in in_cycle and name in by_key:
                    self.report(
                        ("steps", info.index, "after", j),
                        f"the step can never become active: it is after '{name}', which can "
                        f"never become active ({dead[name]})",
                    )
                    dead.setdefault(key, f"it is after '{name}'")

        # A `when` that cannot hold together with any step it waits on.
        for info in infos:
            if info.key is None or info.when is None or not info.after:
                continue
            predecessors = [by_key[name] for name in info.after if name in by_key]
            if not predecessors or any(p.key in dead for p in predecessors):
                continue
            own = set(info.when.severities or SEVERITIES)
            reachable = set()
            for p in predecessors:
                reachable |= set(p.when.severities if p.when and p.when.severities
                                 else SEVERITIES)
            if not own & reachable:
                self.report(
                    ("steps", info.index, "when", "severity"),
                    f"the step runs only at {', '.join(sorted(own))} but the steps it is "
                    f"after ({', '.join(p.key or '' for p in predecessors)}) only run at "
                    f"{', '.join(sorted(reachable))}; it can never follow them",
                )
                continue
            if all(_conflict(info.when, p.when) for p in predecessors):
                self.report(
                    ("steps", info.index, "when"),
                    "the step's when can never hold together with the when of any step it is "
                    f"after ({', '.join(p.key or '' for p in predecessors)}); it can never "
                    "follow them",
                )

    def cycles(self, edges: Mapping[str, list[str]], by_key: Mapping[str, _StepInfo]
               ) -> set[str]:
        """Report each cycle in `after` once, naming it; return the keys in any cycle."""
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(edges, white)
        stack: list[str] = []
        reported: set[frozenset[str]] = set()
        members: set[str] = set()

        def visit(key: str) -> None:
            colour[key] = grey
            stack.append(key)
            for nxt in edges[key]:
                if colour[nxt] == grey:
                    cycle = stack[stack.index(nxt):]
                    members.update(cycle)
                    signature = frozenset(cycle)
                    if signature not in reported and len(cycle) > 1:
                        reported.add(signature)
                        start = min(cycle, key=lambda k: by_key[k].index)
                        at = cycle.index(start)
                        # `after` points backwards in time: show the order things would run.
                        ring = list(reversed(cycle[at:] + cycle[:at]))
                        ring = [start] + [k for k in ring if k != start]
                        names = " -> ".join(ring + [start])
                        info = by_key[start]
                        self.report(("steps", info.index, "after"),
                                    f"cycle in after: {names}")
                elif colour[nxt] == white:
                    visit(nxt)
            stack.pop()
            colour[key] = black

        for key in sorted(edges, key=lambda k: by_key[k].index):
            if colour[key] == white:
                visit(key)
        for key, targets in edges.items():
            if key in targets:
                members.add(key)
        return members


def _conflict(a: Condition, b: Condition | None) -> bool:
    """Return True when no severity and answers can satisfy both conditions."""
    if b is None:
        return False
    if a.severities and b.severities and not set(a.severities) & set(b.severities):
        return True
    return any(
        question in b.answers and not set(accepted) & set(b.answers[question])
        for question, accepted in a.answers.items()
    )


def _topological(edges: Mapping[str, list[str]]) -> list[str]:
    """Order keys so predecessors come first; keys in cycles come last in any order."""
    remaining = {key: set(targets) for key, targets in edges.items()}
    order: list[str] = []
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for key in list(remaining):
            if remaining[key] <= done:
                order.append(key)
                done.add(key)
                del remaining[key]
                progress = True
    return order + list(remaining)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'"
    return f"{type(value).__name__} {value!r}"


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else _kind(value)


def _hint(value: str, options: Iterable[str]) -> str:
    matches = difflib.get_close_matches(value, list(options), n=1)
    return f"; did you mean '{matches[0]}'?" if matches else ""


# The line-marking reader and its typed checks, for the other files-as-code (courses, drills).
DocumentChecker = _Checker
