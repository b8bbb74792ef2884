"""ingest: a journal of published events, to republish after a broker reset

Revision ID: i0003
Revises: i0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from shared.db.tables import BigId

revision = "i0003"
down_revision = "i0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_journal",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(250), nullable=False),
        sa.Column("key", sa.Text, nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_journal_published", "ingest_journal", ["published_at"])


def downgrade() -> None:
    op.drop_index("ix_ingest_journal_published", "ingest_journal")
    op.drop_table("ingest_journal")
