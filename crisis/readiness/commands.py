"""What the readiness CLIs share: how a `validate` command reports the files it checked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from crisis.readiness.documents import Loaded


def report_checked_files(loaded: Sequence[Loaded[Any]], problems: Sequence[object]) -> None:
    """Print every problem (on stderr) and every file that loaded; exit 1 if there was a problem."""
    for problem in problems:
        click.echo(str(problem), err=True)
    for item in loaded:
        click.echo(f"ok {item.value.key}: {item.source}")
    if problems:
        raise SystemExit(1)
