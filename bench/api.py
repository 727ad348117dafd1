"""Throughput of the incidents API against a minimal Flask endpoint on the same gunicorn server.

    .venv/bin/python bench/api.py [--incidents 200] [--rounds 3] [--duration 3] [--connections 4] [--workers 1] [--no-gc-freeze]

Builds a throw-away SQLite database (playbooks synced, a small team, an API token), starts
gunicorn on 127.0.0.1 with CRISIS_SCHEDULER=off serving one WSGI application: the crisis app,
plus a minimal Flask app mounted at /ceiling (one route returning a tiny JSON object). It
declares --incidents incidents through the API, then drives every endpoint with the same load
generator (Debian's `wrk`, installed with apt-get when missing; the POST through a wrk Lua
script) and prints requests per second:

- the ceiling: GET /ceiling/ping (measured before and after the others in each round; the mean
  is that round's ceiling);
- the crisis floor, for information: the same trivial view inside the crisis app (its request
  hooks, no database), GET /bench/noop;
- reading: GET /api/v1/incidents/<ref>, rotating over the declared incidents (as when
  responders poll an incident; every read is a fresh read of the database);
- declaring: POST /api/v1/incidents;
- reading new incidents: each incident the declaring run created read once, for the first
  time, for at most --cold-duration seconds.

Gunicorn runs with the settings on its command line only (not the project's gunicorn.conf.py),
plus the one thing that file does to a worker: gc.freeze() once the apps are loaded
(--no-gc-freeze to measure without it).
Each rate is reported with its ratio to its round's ceiling, so a machine that speeds up or slows
down during the run (shared virtual machines do) moves both; the median ratio over --rounds
rounds is printed last. The ratios are reported, not judged: no target is asserted. Exits
non-zero only if a response was not 2xx.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECLARE_BODY = {
    "playbook": "viral-complaint",
    "title": "Customer video about a broken kettle is going viral",
    "severity": "SEV2",
    "summary": "Posted on TikTok at 08:40; 20k views and climbing.",
    "links": [{"platform": "tiktok", "url": "https://www.tiktok.com/@someone/video/7300000000000000000"}],
}


def make_application():
    """The WSGI application gunicorn serves: crisis at /, a minimal Flask app at /ceiling."""
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from crisis import create_app

    ceiling = Flask("ceiling")

    @ceiling.get("/ping")
    def ping():
        return {"ok": True}

    app = create_app()
    # The same minimal view inside crisis: what every crisis request costs before it does anything.
    app.add_url_rule("/bench/noop", "bench_noop", lambda: {"ok": True})
    application = DispatcherMiddleware(app, {"/ceiling": ceiling})
    if os.environ.get("CRISIS_BENCH_GC_FREEZE") == "1":
        # What the project's gunicorn.conf.py does after a worker starts: full collections then
        # skip the loaded app's objects. One process serves both apps, so both get it.
        gc.freeze()
    return application


def ensure_wrk() -> str:
    """Return the path of wrk, installing Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing it with apt-get", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], env=env).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("could not install wrk")
    return found


def prepare_database(env: dict[str, str]) -> str:
    """Create the schema, sync playbooks, create a declaring lead with a token; return the token."""
    script = """
import sys
from crisis import create_app
from crisis.extensions import db
from crisis.people.service import create_person, create_token
from crisis.playbooks.service import sync_playbooks
app = create_app()
with app.app_context():
    db.create_all()
    sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
    team = [
        ("lead@example.com", ["declare", "respond", "view"], ["triage-lead", "comms-lead"]),
        ("spokes@example.com", ["respond", "publish", "view"], ["spokesperson"]),
        ("legal@example.com", ["respond", "approve", "view"], ["legal"]),
        ("marketing@example.com", ["respond", "approve", "view"], ["marketing"]),
        ("care@example.com", ["respond", "view"], ["customer-care"]),
        ("social@example.com", ["respond", "view"], ["social-media-manager", "community-moderator"]),
        ("hr@example.com", ["respond", "view"], ["hr"]),
        ("exec@example.com", ["view"], ["exec-sponsor"]),
    ]
    for email, permissions, roles in team:
        create_person(email=email, name=email.split("@")[0].title(), permissions=permissions, roles=roles)
    lead = create_person(email="bench@example.com", name="Bench", permissions=["declare", "view"])
    _, secret = create_token(person=lead, name="bench")
    db.session.commit()
    print(secret)
"""
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"database setup failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            with urllib.request.urlopen(f"{base}/ceiling/ping", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start in time")


def api(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


def write_scripts(directory: Path, token: str, refs: list[str]) -> dict[str, Path]:
    auth = f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}\n'
    read = directory / "read.lua"
    paths = ", ".join(lua_string(f"/api/v1/incidents/{ref}") for ref in refs)
    read.write_text(
        auth
        + f"local paths = {{{paths}}}\nlocal i = 0\n"
        + "request = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n"
    )
    declare = directory / "declare.lua"
    declare.write_text(
        auth
        + 'wrk.method = "POST"\n'
        + 'wrk.headers["Content-Type"] = "application/json"\n'
        + f"wrk.body = {lua_string(json.dumps(DECLARE_BODY))}\n"
    )
    return {"read": read, "declare": declare}


def write_cold_script(directory: Path, token: str, year: str, first: int, last: int) -> Path:
    """A wrk script reading INC-<year>-<first..last> in order, each once (then it wraps)."""
    cold = directory / "cold.lua"
    cold.write_text(
        f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}\n'
        + f"local first, last = {first}, {last}\nlocal i = first - 1\n"
        + "request = function()\n  i = i + 1\n  if i > last then i = first end\n"
        + f'  return wrk.format("GET", string.format("/api/v1/incidents/INC-{year}-%04d", i))\nend\n'
    )
    return cold


def run_wrk(wrk: str, url: str, *, duration: int, connections: int, threads: int, script: Path | None = None) -> float:
    """Run wrk and return requests per second; refuse results with errors or non-2xx answers."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    result = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    output = result.stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if bad or (errors and re.search(r"(?:read|write|timeout) [1-9]", errors.group(1))):
        raise SystemExit(f"wrk saw failed requests for {url}:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise SystemExit(f"could not read wrk output:\n{output}")
    return float(rate.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200, help="incidents declared before measuring")
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median ratio is reported")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--worker-threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--cold-duration", type=int, default=2,
                        help="seconds of cold reads (kept short so no incident is read twice)")
    parser.add_argument("--gc-freeze", action=argparse.BooleanOptionalAction, default=True,
                        help="gc.freeze() once the worker has loaded the apps, as gunicorn.conf.py does in "
                             "production (default: on; both apps share the process, so both get it)")
    args = parser.parse_args()

    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="crisis-bench-") as tmp:
        directory = Path(tmp)
        env = os.environ | {
            "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "SECRET_KEY": "bench-secret-key",
            "CRISIS_SCHEDULER": "off",
            "PYTHONPATH": str(ROOT),
            "CRISIS_BENCH_GC_FREEZE": "1" if args.gc_freeze else "0",
        }
        token = prepare_database(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.worker_threads),
            "--log-level", "warning", "--chdir", str(ROOT), "bench.api:make_application()",
        ]
        # Started from the temporary directory, so gunicorn does not pick up the project's
        # ./gunicorn.conf.py (its access log and worker settings): both apps run on exactly the
        # settings given here.
        server = subprocess.Popen(gunicorn, env=env, cwd=directory)
        try:
            wait_until_up(base, server)
            refs = [api(base, token, "POST", "/api/v1/incidents", DECLARE_BODY)["ref"] for _ in range(args.incidents)]
            scripts = write_scripts(directory, token, refs)
            options = {"duration": args.duration, "connections": args.connections, "threads": args.threads}
            run_wrk(wrk, f"{base}/ceiling/ping", **options | {"duration": 2})  # warm-up
            rounds = []
            for number in range(1, args.rounds + 1):
                print(f"round {number}/{args.rounds} ...", file=sys.stderr, flush=True)
                rounds.append(measure_round(wrk, base, token, directory, scripts, options, args.cold_duration))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    print(f"gunicorn {args.workers} workers x {args.worker_threads} threads (gthread"
          f"{', gc.freeze' if args.gc_freeze else ''}); wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s; {args.incidents} incidents declared first; SQLite; {args.rounds} rounds")
    print("req/s, and in brackets the ratio to the mean of the ceiling runs just before and after it")
    print(f"{'':8} {'':31} " + "  ".join(f"{'round ' + str(n):>17}" for n in range(1, args.rounds + 1))
          + f"  {'median':>7}")
    for name, label in LINES:
        if name == "ceiling":
            cells = "  ".join(f"{r[name]['rate']:7.1f} {'':9}" for r in rounds)
            print(f"{name:<8} {label:<31} {cells}")
            continue
        cells = "  ".join(f"{r[name]['rate']:7.1f} ({r[name]['ratio']:6.1%})" for r in rounds)
        ratio = statistics.median(r[name]["ratio"] for r in rounds)
        note = "  (incidents the round's declaring created, each read once)" if name == "cold" else ""
        print(f"{name:<8} {label:<31} {cells}  {ratio:7.1%}{note}")
    return 0


LINES = (
    ("ceiling", "GET  /ceiling/ping (round mean)"),
    ("floor", "GET  /bench/noop (in crisis)"),
    ("read", "GET  /api/v1/incidents/<ref>"),
    ("declare", "POST /api/v1/incidents"),
    ("cold", "GET  /api/v1/incidents/<new>"),
)


def measure_round(wrk: str, base: str, token: str, directory: Path, scripts: dict[str, Path], options: dict,
                  cold_duration: int) -> dict[str, dict[str, float]]:
    """One round: each endpoint measured between two ceiling runs, its ratio to their mean.

    A shared machine's speed drifts within seconds; bracketing every measurement keeps the
    ratio to the ceiling of the same moment.
    """
    ceiling = [run_wrk(wrk, f"{base}/ceiling/ping", **options)]
    found: dict[str, float] = {}

    def bracketed(name: str, rate: float) -> None:
        found[name] = rate
        ceiling.append(run_wrk(wrk, f"{base}/ceiling/ping", **options))
        found[name + ":ceiling"] = (ceiling[-2] + ceiling[-1]) / 2

    bracketed("floor", run_wrk(wrk, f"{base}/bench/noop", **options))
    bracketed("read", run_wrk(wrk, f"{base}/", script=scripts["read"], **options))
    first_new = int(api(base, token, "POST", "/api/v1/incidents", DECLARE_BODY)["ref"].split("-")[2]) + 1
    bracketed("declare", run_wrk(wrk, f"{base}/api/v1/incidents", script=scripts["declare"], **options))
    # The incidents this round's declaring created have never been read.
    newest = api(base, token, "POST", "/api/v1/incidents", DECLARE_BODY)["ref"]
    year, last_new = newest.split("-")[1], int(newest.split("-")[2]) - 1
    cold_script = write_cold_script(directory, token, year, first_new, last_new)
    cold = run_wrk(wrk, f"{base}/", script=cold_script, **options | {"duration": cold_duration})
    if cold * cold_duration > last_new - first_new + 1:
        print(f"note: the cold read wrapped round {last_new - first_new + 1} new incidents; lower --cold-duration",
              file=sys.stderr)
    bracketed("cold", cold)
    return {
        name: {"rate": found[name], "ratio": found[name] / found[name + ":ceiling"]}
        for name in ("floor", "read", "declare", "cold")
    } | {"ceiling": {"rate": statistics.mean(ceiling), "ratio": 1.0}}


if __name__ == "__main__":
    sys.exit(main())
