"""incident revision counters, kept by triggers

Revision ID: 0002_incident_revisions
Revises: 0001_initial
Create Date: 2026-11-21 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# The trigger DDL as it was when this migration was written (crisis.incidents.revisions, retired
# by 0003_plain_data_layer): migrations keep their own copy so they never change with the code.
REVISED_TABLES = ("incidents", "incident_steps", "incident_links")

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION crisis_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$
"""


def trigger_ddl(table, dialect):
    name = f"{table}_bump_revision"
    if dialect == "postgresql":
        return [
            _POSTGRES_FUNCTION,
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION crisis_bump_revision()",
        ]
    return [
        f"CREATE TRIGGER {name} AFTER UPDATE ON {table} FOR EACH ROW WHEN NEW.revision = OLD.revision "
        f"BEGIN UPDATE {table} SET revision = OLD.revision + 1 WHERE id = NEW.id; END"
    ]


def drop_trigger_ddl(table, dialect):
    name = f"{table}_bump_revision"
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {name}"]


revision = '0002_incident_revisions'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    for table in REVISED_TABLES:
        op.add_column(table, sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        for statement in trigger_ddl(table, dialect):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in REVISED_TABLES:
        for statement in drop_trigger_ddl(table, dialect):
            op.execute(statement)
        if dialect == 'sqlite':
            # SQLite >= 3.35 drops a column in place; a batch rebuild would DROP TABLE, which with
            # foreign keys on fails (or cascades) as soon as the tables hold data.
            op.execute(f'ALTER TABLE {table} DROP COLUMN revision')
        else:
            op.drop_column(table, 'revision')
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS crisis_bump_revision()')
