"""Run crisis on one machine: migrate, sync playbooks, seed demo people, serve web + scheduler.

    python run.py [--host 127.0.0.1] [--port 5000] [--workers N] [--reload]

Serves with gunicorn (several worker processes, see crisis/serving.py) and runs the scheduler
in a process of its own beside them; --reload serves with Flask's development server instead,
restarting on code changes, with the scheduler in that process.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from crisis.serving import default_workers

    parser = argparse.ArgumentParser(description="Serve crisis (web UI and scheduler) on one machine.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="web worker processes (default: one per core and one more, 2 to 4)")
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development server)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    from crisis import create_app
    from crisis.bootstrap import prepare_database
    from crisis.errors import ConfigError

    app = create_app()
    embedded = app.config["SCHEDULER"] == "embedded"
    # Under the reloader the parent only watches files; the child serves and runs the scheduler.
    is_reloader_parent = args.reload and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    if not is_reloader_parent:
        try:
            summary = prepare_database(app, seed=True, progress=print)
        except ConfigError as error:
            print(f"crisis: {error}", file=sys.stderr)
            return 1
        if embedded and args.reload:
            from crisis.escalation.scheduler import start_background_scheduler

            start_background_scheduler(app)
            print("scheduler: escalation sweep and outbox delivery running in this process")
        elif embedded:
            print("scheduler: escalation sweep and outbox delivery running in a process of their own")
        print(f"crisis is running at http://{args.host}:{args.port}/")
        if summary.get("demo_login"):
            print(f"demo login: {summary['demo_login']}", flush=True)
    if args.reload:
        gc.freeze()  # long-lived start-up objects need no garbage collection passes (gunicorn.conf.py)
        app.run(host=args.host, port=args.port, use_reloader=True, debug=False, threaded=True)
        return 0
    from crisis.serving import serve

    # The workers build their own app and database pool; this one's connections are not shared.
    with app.app_context():
        from crisis.extensions import db

        db.engine.dispose()
    serve(host=args.host, port=args.port, workers=args.workers, scheduler=embedded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
