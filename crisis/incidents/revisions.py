"""Revision counters kept by the database: any UPDATE of an incident, step or link row bumps it.

The API caches an incident's encoded answer per "stamp" (see `incident_stamp` in the service),
built from these counters and row counts. The database keeps them with triggers rather than
each code path that writes, so no write (the escalation sweep switching a step's escalation
off, a statement completing a step, a hand-run UPDATE) can leave a stale cached answer.

Each counter lives on its own row, so the triggers take no lock beyond the row being updated
(a counter on the incident row would make the sweep, which locks steps first, and step
actions, which lock the incident first, deadlock on PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

REVISED_TABLES = ("incidents", "incident_steps", "incident_links")

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION crisis_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$
"""


def trigger_ddl(table: str, dialect: str) -> list[str]:
    """The statements that make every UPDATE of `table` bump its rows' `revision`."""
    name = f"{table}_bump_revision"
    if dialect == "postgresql":
        return [
            _POSTGRES_FUNCTION,
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION crisis_bump_revision()",
        ]
    # SQLite cannot change NEW in a trigger: the row is updated again. Triggers do not fire
    # themselves recursively (recursive_triggers is off), and the WHEN guard stops it anyway.
    return [
        f"CREATE TRIGGER {name} AFTER UPDATE ON {table} FOR EACH ROW WHEN NEW.revision = OLD.revision "
        f"BEGIN UPDATE {table} SET revision = OLD.revision + 1 WHERE id = NEW.id; END"
    ]


def drop_trigger_ddl(table: str, dialect: str) -> list[str]:
    name = f"{table}_bump_revision"
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {name}"]


def install_on_create(table: Table) -> None:
    """Create the trigger whenever `metadata.create_all` creates the table (tests, fresh setups)."""
    for dialect in ("sqlite", "postgresql"):
        for statement in trigger_ddl(table.name, dialect):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
