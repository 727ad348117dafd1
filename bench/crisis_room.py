"""Crisis room: hundreds of signed-in viewers with the live pages open, a few responders acting.

    .venv/bin/python bench/crisis_room.py [--setup embedded|postgres] [--viewers 100 300]
        [--responders 10] [--duration 30] [--warmup 5] [--runs 1] [--responder-viewers 0.1]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--workers N]

Each setup is `python run.py` as shipped (gunicorn workers plus the scheduler process) on a
fresh database: `embedded` on a temporary SQLite file (the default), `postgres` on a fresh
database created beside --database-url. One SEV1 incident is declared; then for each number of
viewers:

- every viewer is a signed-in browser tab on the incident page, opened at a random moment: it
  asks /live?k=incident:<ref>&h=<stamp shown>&k=events:<ref>&h=..&k=bell&h=.. a second after
  its last answer, or 1.5 s after one that moved a part (If-None-Match), and takes a moved
  part (the steps, the recent events) from the answer, or else fetches it by its URL, as
  crisis.js does; a --responder-viewers share of them are signed in as responders, taken in
  turn from the demo's nine (their fragment carries the forms each is offered: leads share one
  render, step owners one per set of steps owned), the rest as the executive (one shared render
  per state);
- --responders responders each add a note through the API once a second (POST
  /api/v1/incidents/<ref>/notes, bearer token), numbered.

Printed per run: responders' action latency p50/p95/p99, viewers' change-to-screen p95 (from
the note's API answer to the first fragment a viewer holds that shows it or a later note),
errors (non-2xx/304 answers, resets, client timeouts of 10 s), worker crashes (gunicorn's log:
a worker that died or was killed), the CPU the web workers used (cores, from /proc), and the
polls, 304s, parts taken from a poll's answer (inline) and fragments fetched by URL (frags),
and the share of the machine's CPU time the hypervisor gave to others (steal %, from /proc/stat).
Before and after the runs it prints how long a fixed loop of pure Python takes: the same code
measured on the same machine kind has been seen to need twice the CPU on another day, and this
says which kind of day a set of figures comes from.

Loopback only. Every loop is bounded by --duration. The load generator runs on the same machine
(asyncio, raw HTTP/1.1 keep-alive), so it takes some of the CPU it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESPONDERS = (
    "comms.lead@example.com", "triage.backup@example.com", "social@example.com", "care@example.com",
    "legal@example.com", "marketing@example.com", "spokesperson@example.com", "security@example.com",
    "hr@example.com",
)
VIEWER_EMAIL = "exec@example.com"
TIMEOUT = 10.0
# crisis.js's defaults (LIVE_POLL_SECONDS, LIVE_BUSY_POLL_SECONDS).
POLL_SECONDS, BUSY_POLL_SECONDS = 1.0, 1.5
MARK = re.compile(rb"bench note #(\d+)\b")
STAMP = re.compile(rb'data-live-stamp="([^"]+)"')


# --- a tiny HTTP/1.1 keep-alive client ---------------------------------------------------------

class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            return await asyncio.wait_for(self._answer(), TIMEOUT)
        except BaseException:
            self.close()
            raise

    async def _answer(self) -> tuple[int, dict, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        found = {}
        for line in header_lines:
            if ":" in line:
                key, _, value = line.partition(":")
                found.setdefault(key.strip().lower(), []).append(value.strip())
        length = int(found.get("content-length", ["0"])[0])
        body = await self.reader.readexactly(length) if length else b""
        if found.get("connection", [""])[0].lower() == "close":
            self.close()
        return status, found, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _cookie_of(headers: dict) -> str:
    return "; ".join(v.split(";", 1)[0] for v in headers.get("set-cookie", []))


async def sign_in(port: int, email: str, password: str) -> str:
    """Sign in through the form (with its CSRF token); return the session cookie."""
    conn = Connection(port)
    status, headers, body = await conn.request("GET", "/login", {})
    cookie = _cookie_of(headers)
    token = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', body)
    token = token or re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body)
    form = urlencode({"csrf_token": token.group(1).decode(), "email": email, "password": password}).encode()
    status, headers, _ = await conn.request(
        "POST", "/login", {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, form
    )
    conn.close()
    assert status == 302, f"sign-in of {email} answered {status}"
    return _cookie_of(headers) or cookie


# --- the run ---------------------------------------------------------------------------------

class Tally:
    def __init__(self) -> None:
        self.actions: list[float] = []
        self.done_at: dict[int, float] = {}
        self.screen: list[float] = []
        self.unseen = 0
        self.errors: dict[str, int] = {}
        self.polls = self.not_modified = self.fragments = self.inline = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def responder(port: int, token: str, ref: str, counter, tally: Tally, until: float, measure_from: float) -> None:
    conn = Connection(port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    next_at = time.monotonic()
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += 1.0
        number = next(counter)
        body = json.dumps({"text": f"bench note #{number} from the crisis room"}).encode()
        started = time.monotonic()
        try:
            status, _, _ = await conn.request("POST", f"/api/v1/incidents/{ref}/notes", headers, body)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            tally.error(f"responder {type(error).__name__}")
            continue
        finished = time.monotonic()
        if status != 201:
            tally.error(f"responder HTTP {status}")
            continue
        if started >= measure_from:
            tally.actions.append(finished - started)
            tally.done_at[number] = finished


async def viewer(port: int, cookie: str, ref: str, tally: Tally, until: float, measure_from: float, seen_from: int,
                 opened_at: float) -> None:
    conn = Connection(port)
    keys = (f"incident:{ref}", f"events:{ref}", "bell")
    urls = {keys[0]: f"/live/incident/{ref}", keys[1]: f"/live/events/{ref}"}
    shows: dict[str, str] = {}  # the stamp this tab shows, per part
    etag = None
    highest = seen_from  # the newest note this tab shows
    shown: list[tuple[float, int]] = []
    async def poll_once() -> bool:
        """One poll as crisis.js makes it; whether a part moved."""
        nonlocal etag, highest
        headers = {"Cookie": cookie, "X-Requested-With": "fetch"}
        if etag:
            headers["If-None-Match"] = etag
        poll = "/live?" + urlencode([pair for key in keys for pair in (("k", key), ("h", shows.get(key, "")))])
        status, answer_headers, body = await conn.request("GET", poll, headers)
        tally.polls += 1
        if status == 304:
            tally.not_modified += 1
            return False
        if status != 200:
            tally.error(f"poll HTTP {status}")
            return False
        etag = answer_headers.get("etag", [None])[0]
        answer = json.loads(body)
        shows["bell"] = answer["stamps"]["bell"]
        moved = [key for key in urls if answer["stamps"][key] != shows.get(key)]
        for key in moved:
            # A moved part comes in the answer, as crisis.js takes it; else from its URL.
            html = answer.get("parts", {}).get(key)
            if html is not None:
                html = html.encode()
                tally.inline += 1
            else:
                status, _, html = await conn.request("GET", urls[key], {"Cookie": cookie, "X-Requested-With": "fetch"})
                tally.fragments += 1
                if status != 200:
                    tally.error(f"fragment HTTP {status}")
                    continue
            found = STAMP.search(html)
            shows[key] = found.group(1).decode() if found else ""
            newest = max((int(m) for m in MARK.findall(html)), default=highest)
            if newest > highest:
                shown.append((time.monotonic(), newest))
                highest = newest
        # A part served from a render older than its stamp makes the next poll ask again.
        if any(shows.get(key) != answer["stamps"][key] for key in urls):
            etag = None
        return bool(moved)

    next_at = opened_at
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        try:
            moved = await poll_once()
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            tally.error(f"viewer {type(error).__name__}")
            moved = False
        # As crisis.js: the next poll a second after the answer, or longer after one that moved a part.
        next_at = time.monotonic() + (BUSY_POLL_SECONDS if moved else POLL_SECONDS)
    # Each measured note: from its API answer to the first fragment showing it or a later one.
    for number, done in tally.done_at.items():
        first = next((at for at, newest in shown if newest >= number and at >= done - 0.05), None)
        if first is None:
            tally.unseen += 1
        elif done >= measure_from:
            tally.screen.append(max(0.0, first - done))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def _steal_and_total() -> tuple[int, int]:
    """CPU time stolen by the hypervisor and CPU time in all, machine-wide, in ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def _loop_ms() -> float:
    """Best of five timings of a fixed pure-Python loop: how fast this machine is right now."""
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


async def one_run(port: int, server_pid: int, ref: str, cookies: dict, tokens: list[str], viewers: int,
                  responder_share: float, duration: float, warmup: float, first_note: int) -> dict:
    tally = Tally()
    counter = iter(range(first_note, 10**9))
    start = time.monotonic()
    measure_from, until = start + warmup, start + warmup + duration
    workers = [p for p in _children(server_pid) if "flask" not in _cmdline(p)]
    n_responder_viewers = int(round(viewers * responder_share))
    # Tabs opened at random moments (the same ones in every run), so their polls spread over the second.
    opened = [random.Random(i).random() for i in range(viewers)]
    tasks = [asyncio.create_task(responder(port, tokens[i % len(tokens)], ref, counter, tally, until, measure_from))
             for i in range(len(tokens))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(viewer(
        port, cookies["responders"][i % len(cookies["responders"])] if i < n_responder_viewers else cookies["viewer"],
        ref, tally, until + 3,
        measure_from, first_note - 1, start + opened[i])) for i in range(viewers)]
    await asyncio.sleep(warmup)
    cpu_before, wall_before, steal_before = _cpu_seconds(workers), time.monotonic(), _steal_and_total()
    await asyncio.sleep(duration)
    cpu_after, wall_after, steal_after = _cpu_seconds(workers), time.monotonic(), _steal_and_total()
    await asyncio.gather(*tasks)
    return {
        "viewers": viewers,
        "actions": len(tally.actions),
        "action_p50_ms": 1000 * _pct(tally.actions, 50),
        "action_p95_ms": 1000 * _pct(tally.actions, 95),
        "action_p99_ms": 1000 * _pct(tally.actions, 99),
        "screen_p95_s": _pct(tally.screen, 95),
        "screen_max_s": max(tally.screen, default=float("nan")),
        "unseen": tally.unseen,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "polls": tally.polls,
        "not_modified": tally.not_modified,
        "fragments": tally.fragments,
        "inline": tally.inline,
        "worker_cores": (cpu_after - cpu_before) / (wall_after - wall_before),
        "steal_percent": 100 * (steal_after[0] - steal_before[0]) / max(1, steal_after[1] - steal_before[1]),
        "next_note": next(counter),
    }


# --- set-up ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_postgres(base_url: str) -> str:
    from sqlalchemy import create_engine, make_url, text

    url = make_url(base_url)
    name = f"crisis_room_{os.getpid()}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(base_url: str, url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def prepare(env: dict) -> tuple[str, list[str]]:
    """Migrate and seed as run.py does, declare one SEV1 and make the responders' tokens."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from crisis import create_app
        from crisis.bootstrap import prepare_database
        from crisis.extensions import db
        from crisis.incidents.service import declare_incident
        from crisis.people.service import create_token, find_person

        app = create_app()
        prepare_database(app, seed=True)
        with app.app_context():
            incident = declare_incident(playbook_key="viral-complaint", title="Crisis room bench", severity="SEV1",
                                        declared_by=find_person(RESPONDERS[0]))
            tokens = [create_token(person=find_person(email), name="bench")[1] for email in RESPONDERS]
            db.session.commit()
            ref = incident.ref
            db.engine.dispose()
        return ref, tokens
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=("embedded", "postgres"), default="embedded")
    parser.add_argument("--viewers", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--responders", type=int, default=10)
    parser.add_argument("--responder-viewers", type=float, default=0.1)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    from crisis.demo import DEMO_PASSWORD

    tmp = tempfile.mkdtemp(prefix="crisis-room-")
    url = _fresh_postgres(args.database_url) if args.setup == "postgres" else f"sqlite:///{tmp}/room.sqlite3"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "crisis-room-bench", "CRISIS_SCHEDULER": "embedded",
           "CRISIS_SMTP_HOST": "127.0.0.1", "CRISIS_SMTP_PORT": "1", "PYTHONFAULTHANDLER": "1"}
    ref, tokens = prepare(env)
    tokens = (tokens * (args.responders // len(tokens) + 1))[: args.responders]
    port = _free_port()
    log_path = Path(tmp) / "server.log"
    command = [sys.executable, "run.py", "--port", str(port)] + (["--workers", str(args.workers)] if args.workers else [])
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Booting worker" not in log_path.read_text() or not _children(server.pid):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        time.sleep(2)
        cookies = {
            "viewer": asyncio.run(sign_in(port, VIEWER_EMAIL, DEMO_PASSWORD)),
            "responders": [asyncio.run(sign_in(port, email, DEMO_PASSWORD)) for email in RESPONDERS],
        }
        print(f"machine: a fixed Python loop takes {_loop_ms():.1f} ms (best of 5) before the runs")
        print(f"setup={args.setup} workers={len([p for p in _children(server.pid) if 'flask' not in _cmdline(p)])} "
              f"responders={args.responders} duration={args.duration}s responder-viewers={args.responder_viewers}")
        print(f"{'viewers':>7} {'actions':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'screen p95 s':>12} "
              f"{'unseen':>6} {'errors':>6} {'crashes':>7} {'cores':>5} {'steal%':>6} {'polls':>6} {'304s':>6} {'inline':>6} "
              f"{'frags':>6}")
        next_note = 1
        for _ in range(args.runs):
            for viewers in args.viewers:
                crashes_before = _crashes(log_path.read_text())
                result = asyncio.run(one_run(port, server.pid, ref, cookies, tokens, viewers, args.responder_viewers,
                                             args.duration, args.warmup, next_note))
                next_note = result["next_note"]
                crashes = _crashes(log_path.read_text()) - crashes_before
                print(f"{viewers:>7} {result['actions']:>7} {result['action_p50_ms']:>7.1f} {result['action_p95_ms']:>7.1f} "
                      f"{result['action_p99_ms']:>7.1f} {result['screen_p95_s']:>12.2f} {result['unseen']:>6} "
                      f"{result['errors']:>6} {crashes:>7} {result['worker_cores']:>5.2f} {result['steal_percent']:>6.1f} "
                      f"{result['polls']:>6} "
                      f"{result['not_modified']:>6} {result['inline']:>6} {result['fragments']:>6}", flush=True)
                if result["error_kinds"]:
                    print(f"        errors: {result['error_kinds']}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.setup == "postgres":
            _drop_postgres(args.database_url, url)
    crashed = _crashes(log_path.read_text())
    print(f"server log: {log_path} (worker crashes in all: {crashed})")
    print(f"machine: a fixed Python loop takes {_loop_ms():.1f} ms (best of 5) after the runs; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


def _crashes(log: str) -> int:
    """Workers gunicorn saw die (a signal or an exit) and replaced."""
    return len(re.findall(r"Worker \(pid:\d+\) (?:was sent|exited with code)|WORKER TIMEOUT|Fatal Python error", log))


if __name__ == "__main__":
    sys.exit(main())
