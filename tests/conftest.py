"""Fixtures: a fresh app and database per test, an injected clock, people and API clients.

The database is SQLite (a new file per test) unless CRISIS_TEST_POSTGRES_URL names a
PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/postgres): then the session
creates a throw-away database there, every test starts from empty tables, and the database
is dropped at the end.

Call domain functions inside `with app.app_context():`. Don't keep an app context pushed
around test-client requests: the request would share its `g` (and signed-in person).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crisis import clock as crisis_clock
from crisis import create_app, models  # noqa: F401 - the whole schema, for create_all
from crisis.extensions import db
from tests.support.constants import PASSWORD, START

# Fails a test whose responses told a person an ISO timestamp or an API field name.
pytest_plugins = ["tests.support.message_sweep"]

POSTGRES_SERVER_URL = os.environ.get("CRISIS_TEST_POSTGRES_URL", "")


def _postgres_admin_url() -> str:
    url = make_url(POSTGRES_SERVER_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """Create a throw-away PostgreSQL database for this session (None when running on SQLite)."""
    if not POSTGRES_SERVER_URL:
        yield None
        return
    admin_url = _postgres_admin_url()
    name = f"crisis_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure here means no PostgreSQL run
        pytest.exit(f"PostgreSQL at {POSTGRES_SERVER_URL} is unreachable: {error}", returncode=3)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    schema_engine = create_engine(url)
    db.metadata.create_all(schema_engine)
    schema_engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(postgres_database, tmp_path) -> str:
    """A URL of an empty database with the current schema, for this test only."""
    if postgres_database is None:
        return f"sqlite:///{tmp_path / 'crisis.sqlite3'}"
    engine = create_engine(postgres_database)
    with engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_database


@pytest.fixture
def is_postgres(postgres_database) -> bool:
    return postgres_database is not None


@pytest.fixture(autouse=True)
def clock() -> Iterator[crisis_clock.FrozenClock]:
    """Freeze crisis time at START for every test; tests move it with clock.advance(...)."""
    frozen = crisis_clock.FrozenClock(START)
    crisis_clock.set_source(frozen)
    yield frozen
    crisis_clock.set_source(None)


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "SCHEDULER": "off",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "TIMEZONE": "UTC",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 1,
    }


@pytest.fixture
def app(app_config, postgres_database):
    app = create_app(app_config)
    with app.app_context():
        if postgres_database is None:
            db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class SqlStatements(list):
    """Every SQL statement the app's engine ran, as SQLAlchemy sent it (a list of strings).

    Recorded through SQLAlchemy's `before_cursor_execute` event, which every statement passes
    (the ORM's, Core's, and SQLite's BEGINs, which crisis.db.engine issues through SQLAlchemy).
    """

    def kinds(self, *, without: tuple[str, ...] = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")) -> list[str]:
        """The first word of each statement, upper-case, leaving out transaction control."""
        found = [statement.split()[0].upper() for statement in self if statement.strip()]
        return [kind for kind in found if kind not in without]

    def writes(self) -> list[str]:
        """The INSERT, UPDATE and DELETE statements."""
        return [s for s in self if s.strip()[:6].upper() in ("INSERT", "UPDATE", "DELETE")]

    def begins(self) -> list[str]:
        """The BEGIN statements, upper-case (SQLite's: PostgreSQL's driver begins implicitly)."""
        return [statement.upper() for statement in self if statement.upper().startswith("BEGIN")]


@pytest.fixture
def sql_statements(app) -> Iterator[SqlStatements]:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen = SqlStatements()

    def record(connection, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_person(app):
    """Create and commit a person; returns the email. Roles as 'legal' or 'legal:backup'."""
    from crisis.people.service import create_person

    def make(
        email: str,
        *,
        permissions: tuple[str, ...] | list[str] = ("view",),
        roles: tuple[str, ...] | list[str] = (),
        name: str | None = None,
        password: str | None = PASSWORD,
    ) -> str:
        with app.app_context():
            person = create_person(
                email=email,
                name=name or email.split("@")[0].replace(".", " ").title(),
                password=password,
                permissions=permissions,
                roles=roles,
            )
            db.session.commit()
            return person.email

    return make


@pytest.fixture
def login(client):
    """Sign the test client in through the login form."""

    def do_login(email: str, password: str = PASSWORD):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, f"login failed for {email}: {response.status_code}"
        return response

    return do_login


class ApiClient:
    """A test client that sends a bearer token with every request."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.client.patch(path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


@pytest.fixture
def api_client(app, client):
    """Return an ApiClient acting for the person with this email (token created on the fly)."""
    from crisis.people.service import create_token, get_person

    def for_person(email: str, scope: str = "api") -> ApiClient:
        with app.app_context():
            _, secret = create_token(person=get_person(email), name="test", scope=scope)
            db.session.commit()
        return ApiClient(client, secret)

    return for_person


# --- incidents: synced playbooks, a standard team, an incident factory ------------------------


@pytest.fixture
def synced(app):
    """Sync the shipped playbooks into the test database (committed)."""
    from crisis.playbooks.service import sync_playbooks

    with app.app_context():
        sync_playbooks(directory=app.config["PLAYBOOKS_DIR"])
        db.session.commit()
    return app


class Team:
    """The emails of a standard response team; every role has a primary (triage-lead a backup too)."""

    admin = "admin@example.com"
    lead = "lead@example.com"  # triage-lead and comms-lead primary; declares
    triage_backup = "triage.backup@example.com"
    social = "social@example.com"  # social-media-manager, community-moderator
    care = "care@example.com"
    legal = "legal@example.com"
    marketing = "marketing@example.com"
    spokes = "spokes@example.com"
    security = "security@example.com"
    hr = "hr@example.com"
    exec = "exec@example.com"
    viewer = "viewer@example.com"  # view only, no role

    MEMBERS = [
        (admin, ["admin"], []),
        (lead, ["declare", "respond", "approve", "view"], ["triage-lead", "comms-lead"]),
        (triage_backup, ["declare", "respond", "view"], ["triage-lead:backup"]),
        (social, ["respond", "view"], ["social-media-manager", "community-moderator"]),
        (care, ["respond", "view"], ["customer-care"]),
        (legal, ["respond", "approve", "view"], ["legal"]),
        (marketing, ["respond", "approve", "view"], ["marketing"]),
        (spokes, ["respond", "publish", "view"], ["spokesperson"]),
        (security, ["respond", "view"], ["security"]),
        (hr, ["respond", "view"], ["hr"]),
        (exec, ["view"], ["exec-sponsor"]),
        (viewer, ["view"], []),
    ]


@pytest.fixture
def team(make_person) -> Team:
    """Create the standard team (see Team); returns the Team with its emails as attributes."""
    for email, permissions, roles in Team.MEMBERS:
        make_person(email, permissions=permissions, roles=roles)
    return Team()


@pytest.fixture
def incident_factory(app, synced):
    """Declare and commit an incident through the domain service; returns its ref.

    declared_by is an email (default: the team's lead; None or an unknown email: declared by
    nobody); other keyword arguments go to declare_incident.
    """
    from crisis.incidents.service import declare_incident
    from crisis.people.service import find_person

    def declare(
        playbook: str = "viral-complaint",
        *,
        title: str = "Customer video about a broken kettle is going viral",
        severity: str = "SEV2",
        declared_by: str | None = Team.lead,
        **kwargs,
    ) -> str:
        with app.app_context():
            person = find_person(declared_by) if declared_by else None
            incident = declare_incident(
                playbook_key=playbook, title=title, severity=severity, declared_by=person, **kwargs
            )
            db.session.commit()
            return incident.ref

    return declare
