"""Playbook versions in the database: sync from files, look up, and read definitions.

Each distinct content of a playbook file is one `PlaybookVersion`; incidents pin the version
they were opened with, so editing a file never changes a running incident. The caller owns
the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from crisis import clock
from crisis.db.keyset import after_key
from crisis.errors import NotFound
from crisis.extensions import db
from crisis.inputs import fits_id
from crisis.playbooks.definition import Playbook
from crisis.playbooks.models import PlaybookVersion
from crisis.playbooks.validation import LoadedPlaybook, PlaybookProblem, load_directory

_DEFINITION_CACHE_SIZE = 256
_definitions: OrderedDict[tuple[int, str, str], Playbook] = OrderedDict()


@dataclass
class SyncReport:
    """What a sync did: new versions, versions made current again, keys retired, problems."""

    added: list[PlaybookVersion] = field(default_factory=list)
    restored: list[PlaybookVersion] = field(default_factory=list)
    unchanged: list[PlaybookVersion] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    problems: list[PlaybookProblem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.restored or self.retired)

    def summary(self) -> str:
        """Return one line saying what changed, for logs and the CLI."""
        parts = [
            f"{len(self.added)} new version{'s' if len(self.added) != 1 else ''}",
            f"{len(self.unchanged)} unchanged",
        ]
        if self.restored:
            parts.append(f"{len(self.restored)} restored")
        if self.retired:
            parts.append(f"{len(self.retired)} retired")
        if self.problems:
            files = {p.file for p in self.problems}
            parts.append(
                f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} "
                f"in {len(files)} file{'s' if len(files) != 1 else ''} (not loaded)"
            )
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """Return a line per change and per problem."""
        result = [f"added {v.key} version {v.version} ({v.source})" for v in self.added]
        result += [f"restored {v.key} version {v.version} ({v.source})" for v in self.restored]
        result += [f"retired {key} (its file is gone)" for key in self.retired]
        result += [f"unchanged {v.key} version {v.version}" for v in self.unchanged]
        result += [f"problem: {p}" for p in self.problems]
        return result


def sync_playbooks(*, directory: str | Path) -> SyncReport:
    """Load every playbook file and record a new version for each changed one (idempotent).

    Invalid files are reported and change nothing, not even the current flag of the
    versions they used to hold; keys whose file has vanished are no longer current.
    """
    directory = Path(directory)
    loaded, problems = load_directory(directory)
    report = SyncReport(problems=problems)
    if not loaded and problems and all(p.file == str(directory) for p in problems):
        # A missing or empty directory says nothing about the playbooks: retire none of them.
        return report
    for item in loaded:
        _sync_one(item, directory, report)

    present = {item.playbook.key for item in loaded}
    # A file that failed to load may still be the home of a key; never retire on its account.
    broken_files = {Path(p.file).name for p in problems}
    current = db.session.scalars(
        select(PlaybookVersion).where(PlaybookVersion.is_current.is_(True))
    ).all()
    for version in current:
        if version.key in present or Path(version.source).name in broken_files:
            continue
        version.is_current = False
        report.retired.append(version.key)
    db.session.flush()
    return report


def _sync_one(item: LoadedPlaybook, directory: Path, report: SyncReport) -> None:
    playbook = item.playbook
    versions = _versions_of(playbook.key)
    source = f"{directory.name}/{Path(item.source).name}"
    same = next((v for v in versions if v.content_hash == item.content_hash), None)
    others_current = [v for v in versions if v.is_current and v is not same]
    for version in others_current:
        version.is_current = False
    if same is not None:
        same.source = source  # the same content may have moved to another file name
        if same.is_current and not others_current:
            report.unchanged.append(same)
        else:
            same.is_current = True
            report.restored.append(same)
        return
    version = PlaybookVersion(
        key=playbook.key,
        version=max((v.version for v in versions), default=0) + 1,
        title=playbook.title,
        content_hash=item.content_hash,
        definition=playbook.to_dict(),
        source=source,
        loaded_at=clock.now(),
        is_current=True,
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
    except IntegrityError:
        # Another process stored this content first (both syncing at start-up): use its row.
        stored = db.session.scalars(
            select(PlaybookVersion).where(
                PlaybookVersion.key == playbook.key,
                PlaybookVersion.content_hash == item.content_hash,
            )
        ).first()
        if stored is None:
            raise
        report.unchanged.append(stored)
        return
    report.added.append(version)


def _versions_of(key: str) -> list[PlaybookVersion]:
    return list(db.session.scalars(select(PlaybookVersion).where(PlaybookVersion.key == key)))


def list_playbooks(
    *, include_retired: bool = False, limit: int | None = None, after: Sequence[Any] | None = None
) -> list[PlaybookVersion]:
    """Return the current version of every playbook, by title (optionally only those after the
    sort key (title, key) of the last one seen)."""
    query = select(PlaybookVersion)
    keyset = after_key((PlaybookVersion.title, PlaybookVersion.key), after, descending=False)
    if keyset is not None:
        query = query.where(keyset)
    if not include_retired:
        query = query.where(PlaybookVersion.is_current.is_(True))
    else:
        newest = (
            select(PlaybookVersion.key, func.max(PlaybookVersion.version).label("version"))
            .group_by(PlaybookVersion.key)
            .subquery()
        )
        query = query.join(
            newest,
            (PlaybookVersion.key == newest.c.key) & (PlaybookVersion.version == newest.c.version),
        )
    return list(db.session.scalars(query.order_by(PlaybookVersion.title, PlaybookVersion.key).limit(limit)))


def get_playbook_version(key: str, *, version: int | None = None) -> PlaybookVersion:
    """Return the current version of a playbook (or a given version number); NotFound if none."""
    query = select(PlaybookVersion).where(PlaybookVersion.key == key)
    if version is None:
        query = query.where(PlaybookVersion.is_current.is_(True))
    else:
        query = query.where(PlaybookVersion.version == version)
    found = db.session.scalars(query.order_by(PlaybookVersion.version.desc())).first() if version is None or fits_id(version) else None
    if found is None:
        what = f"playbook {key!r}" if version is None else f"version {version} of playbook {key!r}"
        raise NotFound(f"No {what}", field="playbook")
    return found


def list_versions(key: str) -> list[PlaybookVersion]:
    """Return every stored version of a playbook, newest first."""
    return list(
        db.session.scalars(
            select(PlaybookVersion)
            .where(PlaybookVersion.key == key)
            .order_by(PlaybookVersion.version.desc())
        )
    )


def definition_of(version: PlaybookVersion) -> Playbook:
    """Return the parsed definition a version stores (cached per version).

    A version's content never changes once stored (its hash is its identity), so the cache is
    keyed on id, key and hash, and the stored definition (a deferred column) is only read on a
    miss. Ids restart with every fresh database (tests), hence the hash in the key.
    """
    return _cached_definition(version.id, version.key, version.content_hash, lambda: version.definition)


@dataclass(frozen=True)
class VersionRef:
    """Which version of a playbook, without its stored definition."""

    id: int
    key: str
    version: int
    content_hash: str


_CURRENT_VERSION = (
    select(PlaybookVersion.id, PlaybookVersion.key, PlaybookVersion.version, PlaybookVersion.content_hash)
    .where(PlaybookVersion.key == bindparam("key"), PlaybookVersion.is_current.is_(True))
    .order_by(PlaybookVersion.version.desc())
    .limit(1)
)


def current_definition(key: str) -> tuple[VersionRef, Playbook]:
    """Return the current version of a playbook and its definition (one small query when cached)."""
    row = db.session.execute(_CURRENT_VERSION, {"key": key}).one_or_none()
    if row is None:
        raise NotFound(f"There is no playbook “{key}”.", field="playbook")
    version = VersionRef(*row)

    def load() -> dict:
        return db.session.get(PlaybookVersion, version.id).definition

    return version, _cached_definition(version.id, version.key, version.content_hash, load)


def _cached_definition(version_id: int | None, key: str, content_hash: str, load: Callable[[], dict]) -> Playbook:
    cache_key = (version_id, key, content_hash)
    cached = _definitions.get(cache_key)
    if cached is not None:
        _definitions.move_to_end(cache_key)
        return cached
    playbook = Playbook.from_dict(load())
    if version_id is not None:
        _definitions[cache_key] = playbook
        while len(_definitions) > _DEFINITION_CACHE_SIZE:
            _definitions.popitem(last=False)
    return playbook
