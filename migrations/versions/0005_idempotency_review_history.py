"""idempotency keys for API writes; every saved version of a post-incident review

Revision ID: 0005_idempotency_review_history
Revises: 0004_notify_on_work
Create Date: 2026-12-02 04:40:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0005_idempotency_review_history'
down_revision = '0004_notify_on_work'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_idempotency_keys_token_id_api_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('token_id', 'key', name='uq_idempotency_keys_token_id')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('review_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('what_happened', sa.Text(), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('to_change', sa.Text(), nullable=False),
    sa.Column('training_needs', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('changed', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['edited_by_id'], ['people.id'], name=op.f('fk_review_versions_edited_by_id_people')),
    sa.ForeignKeyConstraint(['review_id'], ['post_incident_reviews.id'], name=op.f('fk_review_versions_review_id_post_incident_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_versions')),
    sa.UniqueConstraint('review_id', 'number', name='uq_review_versions_review_id')
    )
    _first_version_of_each_review()


def _first_version_of_each_review():
    """A review saved before history was kept becomes version 1, as it stands now."""
    bind = op.get_bind()
    reviews = sa.table('post_incident_reviews', sa.column('id'), sa.column('what_happened'), sa.column('went_well'),
                       sa.column('to_change'), sa.column('training_needs'), sa.column('author_id'),
                       sa.column('updated_at'))
    actions = sa.table('review_actions', sa.column('review_id'), sa.column('position'), sa.column('description'),
                       sa.column('owner_id'), sa.column('due_on'))
    people = sa.table('people', sa.column('id'), sa.column('email'))
    versions = sa.table('review_versions', sa.column('review_id'), sa.column('number'), sa.column('what_happened'),
                        sa.column('went_well'), sa.column('to_change'), sa.column('training_needs'),
                        sa.column('actions', sa.JSON()), sa.column('changed', sa.JSON()), sa.column('reason'),
                        sa.column('edited_by_id'), sa.column('edited_at'))
    emails = dict(bind.execute(sa.select(people.c.id, people.c.email)).all())
    rows = []
    for review in bind.execute(sa.select(reviews)).mappings():
        saved = bind.execute(sa.select(actions).where(actions.c.review_id == review['id'])
                             .order_by(actions.c.position)).mappings()
        rows.append({
            'review_id': review['id'], 'number': 1, 'what_happened': review['what_happened'],
            'went_well': review['went_well'], 'to_change': review['to_change'],
            'training_needs': review['training_needs'],
            'actions': [{'description': a['description'], 'owner': emails.get(a['owner_id']),
                         'due_on': str(a['due_on'])[:10]} for a in saved],
            'changed': [], 'reason': '', 'edited_by_id': review['author_id'],
            'edited_at': review['updated_at'] or datetime.now(UTC).replace(tzinfo=None),
        })
    if rows:
        op.bulk_insert(versions, rows)


def downgrade():
    op.drop_table('review_versions')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))
    op.drop_table('idempotency_keys')
