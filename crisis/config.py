"""Configuration: defaults, then the environment (and an optional `.env`), then a test mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crisis.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Every variable the app reads, with its default; the README table is written from this.
ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "CRISIS_ENV": ("ENV", "development"),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", None),
    "SECRET_KEY": ("SECRET_KEY", None),
    "CRISIS_PLAYBOOKS_DIR": ("PLAYBOOKS_DIR", None),
    "CRISIS_TRAINING_DIR": ("TRAINING_DIR", None),
    "CRISIS_DRILLS_DIR": ("DRILLS_DIR", None),
    "CRISIS_SCHEDULER": ("SCHEDULER", "embedded"),
    "CRISIS_SWEEP_SECONDS": ("SWEEP_SECONDS", 1.0),
    "CRISIS_OUTBOX_SECONDS": ("OUTBOX_SECONDS", 5.0),
    "CRISIS_OUTBOX_POLL_SECONDS": ("OUTBOX_POLL_SECONDS", 0.5),
    # Empty: no mail server; emails are kept in the admins' mailbox, marked "not sent".
    "CRISIS_SMTP_HOST": ("SMTP_HOST", ""),
    "CRISIS_SMTP_PORT": ("SMTP_PORT", 25),
    "CRISIS_SMTP_USER": ("SMTP_USER", None),
    "CRISIS_SMTP_PASSWORD": ("SMTP_PASSWORD", None),
    "CRISIS_SMTP_STARTTLS": ("SMTP_STARTTLS", False),
    "CRISIS_MAIL_FROM": ("MAIL_FROM", "crisis@localhost"),
    "CRISIS_WEBHOOK_URLS": ("WEBHOOK_URLS", ""),
    "CRISIS_WEBHOOK_SECRET": ("WEBHOOK_SECRET", ""),
    "CRISIS_WEBHOOK_ALLOW_PRIVATE": ("WEBHOOK_ALLOW_PRIVATE", False),
    "CRISIS_SEND_TIMEOUT": ("SEND_TIMEOUT", 10.0),
    "CRISIS_TIMEZONE": ("TIMEZONE", "UTC"),
    "CRISIS_BASE_URL": ("BASE_URL", "http://127.0.0.1:5000"),
    "CRISIS_COMPANY_NAME": ("COMPANY_NAME", "Example Co"),
    "CRISIS_PROXY_HOPS": ("PROXY_HOPS", 0),
    "CRISIS_ALERT_RULES": ("ALERT_RULES", None),
    "CRISIS_ALERT_RATE_LIMIT": ("ALERT_RATE_LIMIT", 120),
}


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def load_config(instance_path: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Return the app's settings, raising ConfigError for any that cannot work."""
    settings: dict[str, Any] = {}
    for env_name, (key, default) in ENVIRONMENT.items():
        raw = os.environ.get(env_name)
        try:
            settings[key] = default if raw in (None, "") else _coerce(raw, default)
        except ValueError:
            raise ConfigError(f"{env_name}={raw!r} is not a valid value") from None
    settings.update(overrides or {})

    production = settings["ENV"] == "production"
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        instance_path.mkdir(parents=True, exist_ok=True)
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'crisis.sqlite3'}"
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    if not settings["SECRET_KEY"]:
        if production:
            raise ConfigError("SECRET_KEY must be set when CRISIS_ENV=production")
        settings["SECRET_KEY"] = _development_secret(instance_path)
    if settings["SCHEDULER"] not in ("embedded", "off"):
        raise ConfigError(f"CRISIS_SCHEDULER must be 'embedded' or 'off', not {settings['SCHEDULER']!r}")
    try:
        ZoneInfo(settings["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"CRISIS_TIMEZONE={settings['TIMEZONE']!r} is not a known time zone") from None
    settings["PLAYBOOKS_DIR"] = str(Path(settings["PLAYBOOKS_DIR"] or PROJECT_ROOT / "playbooks"))
    settings["TRAINING_DIR"] = str(Path(settings["TRAINING_DIR"] or PROJECT_ROOT / "training"))
    settings["DRILLS_DIR"] = str(Path(settings["DRILLS_DIR"] or PROJECT_ROOT / "drills"))
    settings.setdefault("SESSION_COOKIE_HTTPONLY", True)
    settings.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    settings.setdefault("SESSION_COOKIE_SECURE", production)
    settings.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    settings.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    settings.setdefault("REMEMBER_COOKIE_SECURE", production)
    # Flask-Login keeps remember-me for a year by default; a fortnight bounds a stolen cookie.
    settings.setdefault("REMEMBER_COOKIE_DURATION", 14 * 24 * 3600)
    settings.setdefault("PERMANENT_SESSION_LIFETIME", 12 * 3600)
    settings.setdefault("MAX_CONTENT_LENGTH", 1024 * 1024)
    settings.setdefault("WTF_CSRF_TIME_LIMIT", None)
    return settings


def normalise_database_url(url: str) -> str:
    """Validate a database URL and pick the psycopg 3 driver for PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL {url!r} is not a database URL (sqlite:///path or postgresql://...)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL uses {parsed.get_backend_name()!r}; crisis supports sqlite and postgresql")
    if parsed.get_backend_name() == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _development_secret(instance_path: Path) -> str:
    """Generate a secret key once and keep it under instance/ so sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
