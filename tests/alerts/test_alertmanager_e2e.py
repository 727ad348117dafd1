"""End to end: a real Alertmanager delivers its webhook to crisis served from this process.

Debian's prometheus-alertmanager (installed by scripts/install-system-deps.sh, which
`make test` runs) listens on free loopback ports with clustering off; its webhook receiver
points at crisis (werkzeug in a thread on 127.0.0.1:0) with an alerts-scoped bearer token.
We post an alert to Alertmanager's API and wait, bounded, for the incident crisis opens,
then let the alert end and wait for the resolve on the timeline.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
WAIT_SECONDS = 30


def _require_binary() -> None:
    if os.path.exists(BINARY) and os.access(BINARY, os.X_OK):
        return
    message = (f"{BINARY} is not installed: run scripts/install-system-deps.sh "
               "(apt-get install prometheus-alertmanager)")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(what: str, check: Callable[[], object], log: Path) -> object:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up after {WAIT_SECONDS} s waiting for {what}; alertmanager log:\n"
                + log.read_text(errors="replace")[-3000:])


@pytest.fixture
def crisis_url(app) -> Iterator[str]:
    """Serve the test app over real HTTP on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="crisis-e2e", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def _post_alerts(base: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(
        f"{base}/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback only
        assert response.status == 200


def test_a_real_alertmanager_opens_and_resolves_an_incident(intake, crisis_url, stored, tmp_path):
    _require_binary()
    web_port = _free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(json.dumps({  # JSON is YAML
        "route": {
            "receiver": "crisis", "group_by": ["alertname"],
            "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h",
        },
        "receivers": [{
            "name": "crisis",
            "webhook_configs": [{
                "url": f"{crisis_url}/api/v1/alerts/alertmanager",
                "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer", "credentials": intake.token}},
            }],
        }],
    }))
    log = tmp_path / "alertmanager.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [BINARY, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{web_port}", "--cluster.listen-address="],
            stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{web_port}"
    try:
        _wait_for("alertmanager to be ready", lambda: _ready(f"{base}/-/ready"), log)
        alert = {
            "labels": {"alertname": "MentionSpike", "brand": "example-co", "severity": "critical"},
            "annotations": {"summary": "Mentions of Example Co up 900% in 15 minutes",
                            "url": "https://x.com/someone/status/1859000000000000000"},
            "generatorURL": "http://listening.example.com/graph",
        }
        _post_alerts(base, [alert])

        refs = _wait_for("crisis to open an incident", stored.incident_refs, log)
        [ref] = refs
        incident = stored.incident(ref)
        assert incident["playbook"]["key"] == "viral-complaint"
        assert incident["severity"] == "SEV1"
        assert incident["title"] == "Mentions of Example Co up 900% in 15 minutes"
        [received] = stored.events(ref, "alert.received")[:1]
        assert received["actor"] == "alertmanager"

        # Ending the alert makes Alertmanager send the group again, resolved.
        ended = datetime.now(UTC) - timedelta(seconds=1)
        _post_alerts(base, [{**alert, "endsAt": ended.isoformat().replace("+00:00", "Z")}])
        _wait_for("the resolve on the timeline", lambda: stored.events(ref, "alert.resolved"), log)
        assert stored.incident_refs() == [ref]
        assert stored.incident(ref)["status"] == "declared"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_without_the_binary_ci_fails_and_elsewhere_skips_with_the_reason(monkeypatch, tmp_path):
    import tests.alerts.test_alertmanager_e2e as e2e

    monkeypatch.setattr(e2e, "BINARY", str(tmp_path / "prometheus-alertmanager"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="is not installed: run scripts/install-system-deps.sh"):
        e2e._require_binary()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install prometheus-alertmanager"):
        e2e._require_binary()
