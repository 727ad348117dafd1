"""step reminders and who each escalation level reached

Revision ID: 0004_notify_on_work
Revises: 0003_plain_data_layer
Create Date: 2026-12-02 04:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_notify_on_work'
down_revision = '0003_plain_data_layer'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remind_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_incident_steps_remind_at', ['remind_at'], unique=False)
    with op.batch_alter_table('step_escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified', sa.JSON(), nullable=True))
    with op.batch_alter_table('statement_approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached', sa.JSON(), nullable=True))


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index('ix_incident_steps_remind_at', table_name='incident_steps')
    for table, column in (('incident_steps', 'remind_at'), ('step_escalations', 'notified'),
                          ('statement_approvals', 'reached')):
        if dialect == 'sqlite':
            # In place (SQLite >= 3.35): a batch rebuild would DROP TABLE under foreign keys.
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        else:
            op.drop_column(table, column)
