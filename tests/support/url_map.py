"""Every route of the app, and a throwaway app and database to walk them with."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import create_engine, text

from crisis import create_app
from crisis.enums import Permission
from crisis.extensions import db

PERMISSIONS = [p.value for p in Permission]
# Flask's own static files: public by nature, and Flask gives no hook to mark them.
BUILT_IN_PUBLIC = {"static"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# Declared public because they authenticate themselves (a PagerDuty-style event may carry its
# token in the body): signed out they must still refuse, and a valid token must get through.
SELF_AUTHENTICATED = {"api.events_api"}


def _walk_app(database_url: str = "sqlite://"):
    return create_app(
        {
            "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False, "SCHEDULER": "off", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "TIMEZONE": "UTC", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1,
        }
    )


def _routes() -> list[tuple[str, str, str]]:
    app = _walk_app()
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - SKIPPED_METHODS):
            routes.append((rule.endpoint, rule.rule, method))
    return routes


ROUTES = _routes()


def _path(app, endpoint: str, rule_text: str) -> str:
    """Build a URL for the rule with values that name nothing, so no handler finds an object."""
    rule = next(r for r in app.url_map.iter_rules(endpoint) if r.rule == rule_text)
    values = {}
    if endpoint == "static":
        values["filename"] = "crisis.css"
    for name in rule.arguments - set(values):
        converter = rule._converters[name].__class__.__name__
        values[name] = 987654 if converter in ("IntegerConverter", "FloatConverter") else "no-such-thing"
    with app.test_request_context():
        return url_for(endpoint, **values)


def module_app(postgres_database, tmp_path_factory, **overrides):
    """An app on an empty database shared by one test module (the walks would otherwise build ~100)."""
    if postgres_database is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('walk') / 'walk.sqlite3'}"
    else:
        url = postgres_database
        engine = create_engine(url)
        with engine.begin() as connection:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    app = _walk_app(url)
    app.config.update(overrides)
    if postgres_database is None:
        with app.app_context():
            db.create_all()
    return app
