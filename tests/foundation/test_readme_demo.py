"""The README names every demo person, and the Makefile lets `make run` pick a port."""

from __future__ import annotations

import subprocess
from pathlib import Path

from crisis.demo import DEMO_PASSWORD, DEMO_PEOPLE

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_names_every_demo_person_and_the_password():
    readme = (ROOT / "README.md").read_text()
    missing = [(email, name) for email, name, _, _ in DEMO_PEOPLE if email not in readme or name not in readme]
    assert not missing, f"README does not name {missing}"
    assert DEMO_PASSWORD in readme


def test_make_run_passes_port_and_host_through():
    dry_run = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run", "PORT=8080", "HOST=0.0.0.0"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert "run.py --host 0.0.0.0 --port 8080" in dry_run


def test_the_system_deps_script_never_stops_processes_by_name():
    script = (ROOT / "scripts" / "install-system-deps.sh").read_text()
    assert "pkill" not in script and "killall" not in script
