"""How many web workers `python run.py` and gunicorn.conf.py start when not told, and how long they keep a connection."""

from __future__ import annotations

import pytest

from crisis.serving import KEEPALIVE_SECONDS, default_workers


@pytest.mark.parametrize(("cores", "workers"), [(1, 2), (2, 3), (3, 4), (16, 4)])
def test_one_worker_per_core_and_one_more_between_two_and_four(cores, workers):
    assert default_workers(cores) == workers


def test_gunicorn_conf_uses_the_same_defaults(monkeypatch):
    import runpy
    from pathlib import Path

    monkeypatch.delenv("CRISIS_WEB_WORKERS", raising=False)
    settings = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))
    assert settings["workers"] == default_workers()
    assert settings["keepalive"] == KEEPALIVE_SECONDS  # live pages poll every second
    monkeypatch.setenv("CRISIS_WEB_WORKERS", "7")
    assert runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["workers"] == 7
