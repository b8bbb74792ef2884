"""Table builders for the inbox (consumer dedupe) and outbox (publish after commit) patterns.

Each service builds its own copy (`router_inbox`, `router_outbox`, ...) in its own metadata,
so the tables stay owned by that service.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table, Text

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def inbox_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("event_id", String(100), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def outbox_table(metadata: MetaData, name: str) -> Table:
    table = Table(
        name,
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(100), nullable=False, unique=True),
        Column("topic", String(250), nullable=False),
        Column("key", Text, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
    )
    Index(f"ix_{name}_unpublished", table.c.published_at, table.c.id)
    return table
