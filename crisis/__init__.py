"""crisis: a social media crisis response desk.

`create_app` reads like a table of contents of the application.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click
from dotenv import find_dotenv, load_dotenv
from flask import Flask

from crisis.config import PROJECT_ROOT, load_config
from crisis.errors import ConfigError

# Each domain's faces; importing an api module registers its endpoints on the api blueprint.
API_MODULES = (
    "crisis.api.openapi",
    "crisis.people.api",
    "crisis.playbooks.api",
    "crisis.incidents.api",
    "crisis.statements.api",
    "crisis.alerts.api",
    "crisis.training.api",
    "crisis.drills.api",
)
WEB_MODULES = (
    "crisis.people.web",
    "crisis.playbooks.web",
    "crisis.incidents.web",
    "crisis.statements.web",
    "crisis.executive.web",
    "crisis.reviews.web",
    "crisis.alerts.web",
    "crisis.notifications.web",
    "crisis.admin.web",
    "crisis.training.web",
    "crisis.drills.web",
    "crisis.policy.web",
    "crisis.readiness.web",
    "crisis.health",
    "crisis.live.web",
)
CLI_MODULES = (
    "crisis.people.cli",
    "crisis.playbooks.cli",
    "crisis.incidents.cli",
    "crisis.escalation.cli",
    "crisis.notifications.cli",
    "crisis.alerts.cli",
    "crisis.statements.cli",
    "crisis.training.cli",
    "crisis.drills.cli",
    "crisis.policy.cli",
    "crisis.demo",
    "crisis.export",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the environment, then `config` (tests)."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if config is None:
        # An entry point (flask CLI, gunicorn, run.py): read an optional .env as the CLI does.
        load_dotenv(find_dotenv(usecwd=True))
    try:
        app.config.update(load_config(Path(app.instance_path), config))
    except ConfigError as error:
        if config is None:
            # Called by an entry point: one clear line, non-zero exit.
            raise SystemExit(f"crisis: configuration error: {error}") from None
        raise
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_input_guard(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_proxy_fix(app)
    if config is None and click.get_current_context(silent=True) is not None:
        exit_if_database_unreachable(app)
    return app


# The imports inside the register_* functions below break the cycle between this package and
# every module in it: each `crisis.x` imports `crisis` first, so `crisis` may import them only
# once create_app runs.


def exit_if_database_unreachable(app: Flask) -> None:
    """For CLI commands: an unreachable database is one clear line, not a driver traceback."""
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis.bootstrap import check_database

    try:
        check_database(app)
    except ConfigError as error:
        raise SystemExit(f"crisis: {error}") from None


def register_extensions(app: Flask) -> None:
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis import models  # noqa: F401 - every model must be known before the first query
    from crisis.db.engine import configure_engine
    from crisis.extensions import csrf, db, login_manager, migrate
    from crisis.people.auth import configure_login
    from crisis.web.read_only import register_read_only_requests

    register_read_only_requests(app)
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    configure_login(login_manager, app)


def register_blueprints(app: Flask) -> None:
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis.api import api
    from crisis.extensions import csrf

    for name in API_MODULES:
        importlib.import_module(name)
    # Machine clients authenticate with bearer tokens, never cookies, so CSRF cannot apply.
    csrf.exempt(api)
    app.register_blueprint(api)
    for name in WEB_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)


def register_error_handlers(app: Flask) -> None:
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis.web.errors import register_error_handlers as register

    register(app)


def register_input_guard(app: Flask) -> None:
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis.inputs import register_input_guard as register

    register(app)


def register_commands(app: Flask) -> None:
    for name in CLI_MODULES:
        for command in importlib.import_module(name).commands:
            app.cli.add_command(command)


def register_template_helpers(app: Flask) -> None:
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis.web.formatting import register_template_helpers as register
    from crisis.web.refused import register_refused_forms

    register(app)
    register_refused_forms(app)


def register_security_headers(app: Flask) -> None:
    # Imported when create_app runs: the package-and-its-modules circle (see above).
    from crisis.web.security import add_security_headers

    app.after_request(add_security_headers)


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from this many reverse proxies (0: trust none)."""
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
