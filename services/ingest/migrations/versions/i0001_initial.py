"""ingest: accepted deliveries (idempotency keys, webhook ids)

Revision ID: i0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "i0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_deliveries",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("delivery_key", sa.String(300), primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_deliveries")
