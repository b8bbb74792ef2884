"""Inbox: record that an event was processed, in the handler's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


async def claim_event(session: AsyncSession, inbox: Table, event_id: str) -> bool:
    """Insert the event id; False if it was already processed (a redelivery)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(inbox).values(event_id=event_id, processed_at=datetime.now(UTC)).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
