"""Table builders for the inbox (consumer dedupe) and outbox (publish after commit) patterns.

Each service builds its own copy (`router_inbox`, `router_outbox`, ...) in its own metadata,
so the tables stay owned by that service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on both databases (SQLite drops the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def inbox_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("event_id", String(100), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
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
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True),
        # A row that keeps failing for a reason a retry cannot fix is parked, with why, so one
        # poison row never stalls the events behind it.
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
        Column("parked_at", UtcDateTime(), nullable=True),
    )
    Index(f"ix_{name}_unpublished", table.c.published_at, table.c.id)
    return table
