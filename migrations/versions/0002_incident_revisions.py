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
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('revision')
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS crisis_bump_revision()')
