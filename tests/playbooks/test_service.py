"""Syncing playbook files into versions: idempotent, versioned, invalid files change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from crisis.errors import NotFound
from crisis.extensions import db
from crisis.playbooks.models import PlaybookVersion
from crisis.playbooks.service import (
    definition_of,
    get_playbook_version,
    list_playbooks,
    list_versions,
    sync_playbooks,
)

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    target = tmp_path / "playbooks"
    target.mkdir()
    for name in ("viral-complaint.yaml", "wrong-price.yaml"):
        shutil.copy(SHIPPED / name, target / name)
    return target


def all_versions() -> list[tuple[str, int, bool]]:
    rows = db.session.scalars(
        select(PlaybookVersion).order_by(PlaybookVersion.key, PlaybookVersion.version)
    )
    return [(v.key, v.version, v.is_current) for v in rows]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_first_sync_adds_a_version_per_file(app, directory):
    with app.app_context():
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert [(v.key, v.version) for v in report.added] == [
            ("viral-complaint", 1), ("wrong-price", 1)]
        assert report.changed and report.problems == []
        assert report.summary() == "2 new versions, 0 unchanged"
        version = get_playbook_version("wrong-price")
        assert version.source == "playbooks/wrong-price.yaml"
        assert version.title == "Wrong price or false claim in our own ad or post"
        assert len(version.content_hash) == 64


def test_sync_is_idempotent(app, directory):
    with app.app_context():
        sync_playbooks(directory=directory)
        db.session.commit()
        before = all_versions()
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert not report.changed
        assert sorted(v.key for v in report.unchanged) == ["viral-complaint", "wrong-price"]
        assert all_versions() == before


def test_a_changed_file_becomes_the_next_version(app, directory):
    with app.app_context():
        sync_playbooks(directory=directory)
        db.session.commit()
        edit(directory / "wrong-price.yaml", "title: Wrong price or false claim in our own ad or post",
             "title: Wrong price or false claim")
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert [(v.key, v.version) for v in report.added] == [("wrong-price", 2)]
        assert all_versions() == [
            ("viral-complaint", 1, True), ("wrong-price", 1, False), ("wrong-price", 2, True)]
        assert get_playbook_version("wrong-price").title == "Wrong price or false claim"
        # The old version keeps its definition: incidents pinned to it see no change.
        old = get_playbook_version("wrong-price", version=1)
        assert definition_of(old).title == "Wrong price or false claim in our own ad or post"
        assert [v.version for v in list_versions("wrong-price")] == [2, 1]


def test_reverting_a_file_restores_the_old_version_without_a_new_row(app, directory):
    with app.app_context():
        original = (directory / "wrong-price.yaml").read_text()
        sync_playbooks(directory=directory)
        edit(directory / "wrong-price.yaml", "default_severity: SEV2", "default_severity: SEV3")
        sync_playbooks(directory=directory)
        (directory / "wrong-price.yaml").write_text(original)
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert [(v.key, v.version) for v in report.restored] == [("wrong-price", 1)]
        assert report.added == []
        assert ("wrong-price", 1, True) in all_versions()
        assert ("wrong-price", 2, False) in all_versions()
        assert get_playbook_version("wrong-price").version == 1


def test_a_vanished_file_is_no_longer_current(app, directory):
    with app.app_context():
        sync_playbooks(directory=directory)
        (directory / "wrong-price.yaml").unlink()
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert report.retired == ["wrong-price"]
        assert [v.key for v in list_playbooks()] == ["viral-complaint"]
        with pytest.raises(NotFound):
            get_playbook_version("wrong-price")
        # Still there for incidents pinned to it.
        assert get_playbook_version("wrong-price", version=1).is_current is False
        assert [v.key for v in list_playbooks(include_retired=True)] == [
            "viral-complaint", "wrong-price"]
        # Putting the file back makes the same version current again.
        shutil.copy(SHIPPED / "wrong-price.yaml", directory / "wrong-price.yaml")
        report = sync_playbooks(directory=directory)
        assert [(v.key, v.version) for v in report.restored] == [("wrong-price", 1)]


def test_an_invalid_file_is_reported_and_changes_nothing(app, directory):
    with app.app_context():
        sync_playbooks(directory=directory)
        db.session.commit()
        before = all_versions()
        edit(directory / "wrong-price.yaml", "role: legal", "role: lawyer")
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert not report.changed
        assert report.problems
        assert {Path(p.file).name for p in report.problems} == {"wrong-price.yaml"}
        assert "unknown role 'lawyer'" in report.problems[0].message
        assert all_versions() == before
        assert "1 problem in 1 file (not loaded)" in report.summary()


def test_a_missing_directory_changes_nothing(app, directory, tmp_path):
    with app.app_context():
        sync_playbooks(directory=directory)
        report = sync_playbooks(directory=tmp_path / "nowhere")
        assert not report.changed
        assert report.problems[0].message == "no such directory"
        assert len(list_playbooks()) == 2


def test_an_empty_directory_changes_nothing(app, directory, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with app.app_context():
        sync_playbooks(directory=directory)
        report = sync_playbooks(directory=empty)
        assert not report.changed
        assert "no playbook files" in report.problems[0].message
        assert len(list_playbooks()) == 2


def test_get_playbook_version_not_found(app):
    with app.app_context():
        with pytest.raises(NotFound) as caught:
            get_playbook_version("nope")
        assert caught.value.field == "playbook"
        with pytest.raises(NotFound, match="version 7"):
            get_playbook_version("nope", version=7)


def test_definition_of_is_cached_per_version(app, directory):
    with app.app_context():
        sync_playbooks(directory=directory)
        db.session.commit()
        version = get_playbook_version("viral-complaint")
        first = definition_of(version)
        assert definition_of(version) is first
        assert first.step("holding-statement").publishes is True
        assert first.to_dict() == version.definition


def test_the_shipped_directory_syncs_cleanly(app):
    with app.app_context():
        report = sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
        assert report.problems == []
        assert len(report.added) >= 6


def test_a_version_stored_meanwhile_by_another_process_is_reused(app, directory, monkeypatch):
    from crisis.playbooks import service

    with app.app_context():
        sync_playbooks(directory=directory)
        db.session.commit()
        # As if another process had stored the same content between our read and our insert.
        monkeypatch.setattr(service, "_versions_of", lambda key: [])
        report = sync_playbooks(directory=directory)
        db.session.commit()
        assert report.added == []
        assert sorted(v.key for v in report.unchanged) == ["viral-complaint", "wrong-price"]
        assert all_versions() == [("viral-complaint", 1, True), ("wrong-price", 1, True)]


def test_definition_cache_tells_versions_apart_by_content_hash(app, directory):
    with app.app_context():
        sync_playbooks(directory=directory)
        version = get_playbook_version("viral-complaint")
        assert definition_of(version).title == "Viral customer complaint"
        # A fresh database can reuse the id for other content, which has another hash.
        other = PlaybookVersion(
            id=version.id, key=version.key, version=1, title="Something else", content_hash="0" * 64,
            definition={**version.definition, "title": "Something else"},
        )
        assert definition_of(other).title == "Something else"
        assert definition_of(version).title == "Viral customer complaint"


def test_current_definition_matches_the_current_version(app, directory):
    from crisis.playbooks.service import current_definition

    with app.app_context():
        sync_playbooks(directory=directory)
        stored = get_playbook_version("viral-complaint")
        version, playbook = current_definition("viral-complaint")
        assert (version.id, version.key, version.version, version.content_hash) == (
            stored.id, stored.key, stored.version, stored.content_hash
        )
        assert playbook == definition_of(stored)
        with pytest.raises(NotFound):
            current_definition("no-such-playbook")
