"""ingest: idempotency keys scoped by endpoint, with the body's hash

The old table keyed deliveries by (source, key) only, so one key on two endpoints collided.
Its rows only matter within the senders' retry span, so they are dropped, not migrated.

Revision ID: i0002
Revises: i0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "i0002"
down_revision = "i0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_idempotency",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("scope", sa.String(50), primary_key=True),
        sa.Column("delivery_key", sa.String(300), primary_key=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_idempotency_created", "ingest_idempotency", ["created_at"])
    op.drop_table("ingest_deliveries")


def downgrade() -> None:
    op.drop_index("ix_ingest_idempotency_created", "ingest_idempotency")
    op.drop_table("ingest_idempotency")
    op.create_table(
        "ingest_deliveries",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("delivery_key", sa.String(300), primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
