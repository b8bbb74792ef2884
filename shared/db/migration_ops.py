"""Alembic operations that create a service's inbox and outbox tables (mirrors shared/db/tables.py)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db.tables import BigId


def create_inbox(name: str) -> None:
    op.create_table(
        name,
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_outbox(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False, unique=True),
        sa.Column("topic", sa.String(250), nullable=False),
        sa.Column("key", sa.Text, nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(f"ix_{name}_unpublished", name, ["published_at", "id"])


def add_outbox_parking(name: str) -> None:
    """Outbox rows that keep failing are parked with their reason (attempts, last_error, parked_at)."""
    with op.batch_alter_table(name) as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text, nullable=True))
        batch.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))


def drop_outbox_parking(name: str) -> None:
    with op.batch_alter_table(name) as batch:
        batch.drop_column("parked_at")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
