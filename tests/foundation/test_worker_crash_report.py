"""A web worker that dies of a signal leaves every thread's stack in the server log (issue 16)."""

from __future__ import annotations

import faulthandler
import gc
import runpy
from pathlib import Path

import pytest

from crisis import serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def handler_off():
    was_enabled = faulthandler.is_enabled()
    faulthandler.disable()
    yield
    gc.unfreeze()
    if not was_enabled:
        faulthandler.disable()


def test_run_py_workers_enable_faulthandler(handler_off):
    serving._freeze_start_up_objects(None)
    assert faulthandler.is_enabled()


def test_gunicorn_conf_workers_enable_faulthandler(handler_off):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    settings["post_worker_init"](None)
    assert faulthandler.is_enabled()
