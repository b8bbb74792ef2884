"""Inbox: record that an event was processed, in the handler's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.dialect import insert_ignoring_conflicts


async def claim_event(session: AsyncSession, inbox: Table, event_id: str) -> bool:
    """Insert the event id; False if it was already processed (a redelivery)."""
    stmt = insert_ignoring_conflicts(session, inbox).values(event_id=event_id, processed_at=datetime.now(UTC))
    result = await session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
