"""incident revision counters, kept by triggers

Revision ID: 0002_incident_revisions
Revises: 0001_initial
Create Date: 2026-11-21 10:40:00

"""
from alembic import op
import sqlalchemy as sa

from crisis.incidents.revisions import REVISED_TABLES, drop_trigger_ddl, trigger_ddl


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
