"""Tables the ingest service owns: the deliveries it has already accepted (idempotency)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table

from shared.db.tables import UtcDateTime

metadata = MetaData()

deliveries = Table(
    "ingest_deliveries",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("delivery_key", String(300), primary_key=True),
    Column("event_id", String(100), nullable=False),
    Column("lead_id", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
