"""Run crisis on one machine: migrate, sync playbooks, seed demo people, serve web + scheduler.

    python run.py [--host 127.0.0.1] [--port 5000] [--reload]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve crisis (web UI and scheduler) on one machine.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    args = parser.parse_args(argv)

    from crisis import create_app
    from crisis.bootstrap import prepare_database
    from crisis.errors import ConfigError

    app = create_app()
    # Under the reloader the parent only watches files; the child serves and runs the scheduler.
    is_reloader_parent = args.reload and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    if not is_reloader_parent:
        try:
            summary = prepare_database(app, seed=True, progress=print)
        except ConfigError as error:
            print(f"crisis: {error}", file=sys.stderr)
            return 1
        if app.config["SCHEDULER"] == "embedded":
            from crisis.escalation.scheduler import start_background_scheduler

            start_background_scheduler(app)
            print("scheduler: escalation sweep and outbox delivery running in this process")
        print(f"crisis is running at http://{args.host}:{args.port}/")
        if summary.get("demo_login"):
            print(f"demo login: {summary['demo_login']}")
    # Long-lived start-up objects need no garbage collection passes (see gunicorn.conf.py).
    gc.freeze()
    app.run(host=args.host, port=args.port, use_reloader=args.reload, debug=False, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
