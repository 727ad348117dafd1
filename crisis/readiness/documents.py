"""Load a directory of YAML files-as-code through the playbook validator's line-marking reader.

Training courses and drill scenarios are checked like playbooks: every problem names the file,
the line and the field, and a file with any problem loads nothing.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from crisis.playbooks.validation import (
    DocumentChecker,
    PlaybookInvalid,
    PlaybookProblem,
    content_hash,
    read_document,
)

T = TypeVar("T")


class ItemChecker(DocumentChecker):
    """A checker whose problems name items of one top-level list (e.g. `injects`) by their key."""

    items = ""  # the top-level list whose entries are named in problems

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.items_key = self.items
        self.item_keys = self.item_names  # filled by subclasses as they read each item's key

    def unnamed_item(self, index: int) -> tuple[str | None, str]:
        return None, f"{self.items} #{index + 1}: "

    def run(self, data: Any) -> Any:
        """Check the data (subclasses implement `check`) and collect the problems."""
        result = self.check(data)
        self.finish()
        return result


@dataclass
class Loaded(Generic[T]):
    value: T
    source: str
    content_hash: str


def parse_text(text: str, *, source: str, checker: type[ItemChecker]) -> Any:
    """Parse one file's text; raise PlaybookInvalid listing every problem."""
    reader, data = read_document(text, source=source, checker=checker)
    value = reader.run(data)
    if reader.problems or value is None:
        raise PlaybookInvalid(reader.problems or [PlaybookProblem(source, None, None, None, "nothing to load")])
    return value


_cache: dict[tuple, tuple[list[Loaded], list[PlaybookProblem]]] = {}


def load_directory_cached(
    path: str | Path, *, checker: type[ItemChecker], key: Callable[[Any], str], what: str, extra: tuple = ()
) -> tuple[list[Loaded], list[PlaybookProblem]]:
    """As load_directory, parsing again only when a file's name, size or modification time changed.

    The publish and declare paths ask for courses on every call; parsing YAML each time would
    cost more than the rest of the request.
    """
    directory = Path(path)
    try:
        stamp = tuple(sorted((entry.name, entry.stat().st_mtime_ns, entry.stat().st_size)
                             for entry in os.scandir(directory)))
    except OSError:
        stamp = ()
    cache_key = (str(directory), checker.__name__, stamp, extra)
    if cache_key not in _cache:
        if len(_cache) > 64:
            _cache.clear()
        _cache[cache_key] = load_directory(directory, checker=checker, key=key, what=what)
    return _cache[cache_key]


def load_directory(
    path: str | Path, *, checker: type[ItemChecker], key: Callable[[Any], str], what: str
) -> tuple[list[Loaded], list[PlaybookProblem]]:
    """Load every *.yaml / *.yml file of a directory; a file with any problem loads nothing."""
    directory = Path(path)
    if not directory.is_dir():
        return [], [PlaybookProblem(str(directory), None, None, None, "no such directory")]
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml"))
    loaded: list[Loaded] = []
    problems: list[PlaybookProblem] = []
    for file in files:
        source = str(file)
        try:
            raw = file.read_bytes()
            text = raw.decode("utf-8")
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(PlaybookProblem(source, None, None, None, f"cannot read as UTF-8 text: {exc}"))
            continue
        try:
            loaded.append(Loaded(parse_text(text, source=source, checker=checker), source, content_hash(raw)))
        except PlaybookInvalid as exc:
            problems.extend(exc.problems)
    by_key: dict[str, list[Loaded]] = defaultdict(list)
    for item in loaded:
        by_key[key(item.value)].append(item)
    result = []
    for item_key, group in by_key.items():
        if len(group) == 1:
            result.append(group[0])
            continue
        for item in group:
            others = ", ".join(o.source for o in group if o is not item)
            problems.append(PlaybookProblem(item.source, None, None, "key", f"{what} key '{item_key}' is also used by {others}"))
    return sorted(result, key=lambda item: item.source), problems
