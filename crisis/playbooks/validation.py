"""Parse and validate playbook YAML, reporting every problem with file, line, step and field.

The shared YAML checker (`crisis.yamlcheck`) composes the file with line marks; the checks
live in `checker` (the document, questions, escalation), `step_checks` (each step) and
`step_graph` (the `after` graph). A file with any problem produces no playbook at all. This
module is the public face: the names callers import from here stay here.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crisis.playbooks.checker import (
    DEFAULT_ACKNOWLEDGE_SNOOZE,
    ESCALATION_KEYS,
    LEVEL_KEYS,
    QUESTION_KEYS,
    TOP_KEYS,
    TOP_REQUIRED,
    PlaybookChecker,
)
from crisis.playbooks.definition import Playbook
from crisis.playbooks.readers import (
    KNOWN_ROLES,
    MAX_KEY_LENGTH,
    MAX_TITLE_LENGTH,
    SLUG,
    PlaybookInvalid,
    PlaybookProblem,
    PlaybookReaders,
)
from crisis.playbooks.step_checks import STEP_KEYS, STEP_REQUIRED, WHEN_KEYS
from crisis.yamlcheck import MAX_NODES, Path_

__all__ = [
    "DEFAULT_ACKNOWLEDGE_SNOOZE", "ESCALATION_KEYS", "KNOWN_ROLES", "LEVEL_KEYS", "MAX_KEY_LENGTH",
    "MAX_NODES", "MAX_TITLE_LENGTH", "QUESTION_KEYS", "SLUG", "STEP_KEYS", "STEP_REQUIRED", "TOP_KEYS",
    "TOP_REQUIRED", "WHEN_KEYS", "LoadedPlaybook", "Path_", "PlaybookInvalid", "PlaybookProblem",
    "content_hash", "load_directory", "parse_playbook", "DocumentChecker", "read_document",
]

# The line-marking reader and its typed checks, for the other files-as-code (courses, drills).
DocumentChecker = PlaybookReaders


def read_document(text: str, *, source: str, checker: type[PlaybookReaders]) -> tuple[PlaybookReaders, Any]:
    """Compose one YAML file into (checker, plain data) with every value's line remembered.

    YAML errors, empty and oversized files raise PlaybookInvalid here, for every kind of file alike.
    """
    reader = checker(source)
    return reader, reader.compose(text)


@dataclass
class LoadedPlaybook:
    playbook: Playbook
    content_hash: str
    source: str


def content_hash(text: str | bytes) -> str:
    """Return the sha256 hex digest of the file bytes (text is hashed as UTF-8)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


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
    checker = PlaybookChecker(source)
    data = checker.compose(text)
    playbook = checker.check(data)
    if checker.problems or playbook is None:
        raise PlaybookInvalid(checker.problems)
    return playbook, checker.lines.get(("key",))
