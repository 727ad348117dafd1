"""drop the incident revision counters and their triggers

The API's incident ETag is now a digest of the answer itself, so nothing reads the counters.

Revision ID: 0003_plain_data_layer
Revises: 0002_incident_revisions
Create Date: 2026-12-02 04:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003_plain_data_layer'
down_revision = '0002_incident_revisions'
branch_labels = None
depends_on = None

TABLES = ("incidents", "incident_steps", "incident_links")

# For the downgrade: the triggers exactly as 0002_incident_revisions created them.
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION crisis_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$
"""


def upgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        # The trigger first: SQLite refuses to drop a column a trigger names.
        if dialect == 'postgresql':
            op.execute(f'DROP TRIGGER IF EXISTS {table}_bump_revision ON {table}')
            op.drop_column(table, 'revision')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_bump_revision')
            # SQLite >= 3.35 drops a column in place; a batch rebuild would DROP TABLE, which with
            # foreign keys on fails (or cascades) as soon as the tables hold data.
            op.execute(f'ALTER TABLE {table} DROP COLUMN revision')
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS crisis_bump_revision()')


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(_POSTGRES_FUNCTION)
    for table in TABLES:
        op.add_column(table, sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        name = f'{table}_bump_revision'
        if dialect == 'postgresql':
            op.execute(f'CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW '
                       'EXECUTE FUNCTION crisis_bump_revision()')
        else:
            op.execute(f'CREATE TRIGGER {name} AFTER UPDATE ON {table} FOR EACH ROW '
                       f'WHEN NEW.revision = OLD.revision '
                       f'BEGIN UPDATE {table} SET revision = OLD.revision + 1 WHERE id = NEW.id; END')
