"""Reload storm: the crash scenario of issue 16, without live updates.

    .venv/bin/python bench/reload_storm.py [--tree PATH] [--viewers 300] [--runs 8] [--duration 40]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Viewers reload the incident page and the dashboard every 5 s each (signed in as the demo's
executive), ten responders add a note every second through the API, against gunicorn started
with the checkout's own gunicorn.conf.py on a fresh PostgreSQL database. At 300 viewers two
cores saturate (pages take seconds): that is the point, it is how the workers once died with
SIGSEGV. --tree runs an older checkout (`git worktree add /tmp/old <commit>`) with this
checkout's virtualenv, to compare (install what it needs beside: 2d158dc also wants orjson). Prints per run: actions p50/p95, pages p50, errors and
workers gunicorn saw die; faulthandler (PYTHONFAULTHANDLER) puts every thread's stack in the
server log it names.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crisis_room import (  # noqa: E402
    RESPONDERS,
    VIEWER_EMAIL,
    Connection,
    Tally,
    _drop_postgres,
    _free_port,
    _fresh_postgres,
    _pct,
    responder,
    sign_in,
)

ROOT = Path(__file__).resolve().parent.parent
RELOAD_SECONDS = 2.5  # the incident page, then the dashboard, each every 5 s
PREPARE = """
import sys
from crisis import create_app
from crisis.bootstrap import prepare_database
from crisis.extensions import db
from crisis.incidents.service import declare_incident
from crisis.people.service import create_token, find_person
app = create_app()
prepare_database(app, seed=True)
with app.app_context():
    incident = declare_incident(playbook_key="viral-complaint", title="Reload storm", severity="SEV1",
                                declared_by=find_person(sys.argv[1]))
    tokens = [create_token(person=find_person(email), name="bench")[1] for email in sys.argv[1:]]
    db.session.commit()
    print(incident.ref)
    print(" ".join(tokens))
"""


def _died(log: str) -> int:
    """Workers gunicorn saw die of a signal or exit (once each, unlike faulthandler's lines)."""
    return len(re.findall(r"Worker \(pid:\d+\) (?:was sent|exited with code)", log))


def prepare(tree: Path, env: dict) -> tuple[str, list[str]]:
    """Migrate and seed with the tree's own code; declare one SEV1; return it and the responders' tokens."""
    done = subprocess.run([sys.executable, "-c", PREPARE, *RESPONDERS], env=env, cwd=tree,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    ref, tokens = done.stdout.strip().splitlines()[-2:]
    return ref, tokens.split()


async def reloader(port: int, cookie: str, ref: str, tally: Tally, until: float, opened: float) -> None:
    conn = Connection(port)
    paths = [f"/incidents/{ref}", "/dashboard"]
    await asyncio.sleep(opened * 2 * RELOAD_SECONDS)
    asked, next_at = 0, time.monotonic()
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += RELOAD_SECONDS
        path, asked = paths[asked % 2], asked + 1
        started = time.monotonic()
        try:
            try:
                status, _, _ = await conn.request("GET", path, {"Cookie": cookie})
            except (OSError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection: open another, as a browser does.
                started = time.monotonic()
                status, _, _ = await conn.request("GET", path, {"Cookie": cookie})
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            tally.error(f"viewer {type(error).__name__}")
            continue
        if status != 200:
            tally.error(f"viewer HTTP {status}")
            continue
        tally.screen.append(time.monotonic() - started)


async def one_run(port: int, ref: str, cookie: str, tokens: list[str], viewers: int, duration: float) -> Tally:
    tally = Tally()
    counter = iter(range(10**9))
    start = time.monotonic()
    until = start + duration
    tasks = [asyncio.create_task(responder(port, token, ref, counter, tally, until, start + 5)) for token in tokens]
    tasks += [asyncio.create_task(reloader(port, cookie, ref, tally, until, random.Random(i).random()))
              for i in range(viewers)]
    await asyncio.gather(*tasks)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--viewers", type=int, default=300)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    tree = args.tree.resolve()
    url = _fresh_postgres(args.database_url)
    log = Path(tempfile.mkdtemp(prefix="reload-storm-")) / "server.log"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "reload-storm", "CRISIS_SCHEDULER": "off",
           "PYTHONPATH": str(tree), "PYTHONFAULTHANDLER": "1"}
    port = _free_port()
    server = None
    try:
        ref, tokens = prepare(tree, env)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "/dev/null", "crisis:create_app()"],
            cwd=tree, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        time.sleep(5)
        from crisis.demo import DEMO_PASSWORD

        cookie = asyncio.run(sign_in(port, VIEWER_EMAIL, DEMO_PASSWORD))
        print(f"tree={tree} viewers={args.viewers} duration={args.duration}s server log: {log}", flush=True)
        for run in range(args.runs):
            before = _died(log.read_text())
            tally = asyncio.run(one_run(port, ref, cookie, tokens, args.viewers, args.duration))
            print(f"run {run + 1}: actions p50 {1000 * _pct(tally.actions, 50):.0f} p95 "
                  f"{1000 * _pct(tally.actions, 95):.0f} ms; pages {len(tally.screen)} p50 "
                  f"{1000 * _pct(tally.screen, 50):.0f} ms; errors {dict(tally.errors)}; "
                  f"workers died {_died(log.read_text()) - before}", flush=True)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=40)
        _drop_postgres(args.database_url, url)
    print(f"workers died in all: {_died(log.read_text())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
