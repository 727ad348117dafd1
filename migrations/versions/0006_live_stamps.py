"""index for the live pages' change stamp: an incident's newest timeline event

Revision ID: 0006_live_stamps
Revises: 0005_idempotency_review_history
Create Date: 2026-12-02 04:30:00

"""
from alembic import op


revision = '0006_live_stamps'
down_revision = '0005_idempotency_review_history'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_timeline_events_incident_id_id', 'timeline_events', ['incident_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_timeline_events_incident_id_id', table_name='timeline_events')
