"""Outbox: events are written in the same transaction as the state change, published after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_id: str
    topic: str
    key: str | None
    value: bytes
    attempts: int = 0


async def add_events(
    session: AsyncSession, outbox: Table, events: Sequence[tuple[str, str, str | None, bytes]]
) -> None:
    """Queue (event_id, topic, key, value) rows; they go out once the transaction commits."""
    if not events:
        return
    now = datetime.now(UTC)
    await session.execute(
        insert(outbox),
        [{"event_id": e, "topic": t, "key": k, "value": v, "created_at": now} for e, t, k, v in events],
    )


async def lock_pending(session: AsyncSession, outbox: Table, limit: int) -> list[PendingEvent]:
    """Oldest unpublished rows; SKIP LOCKED lets several relays share the work (PostgreSQL)."""
    stmt = (
        select(
            outbox.c.id, outbox.c.event_id, outbox.c.topic, outbox.c.key, outbox.c.value, outbox.c.attempts
        )
        .where(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(stmt)).all()
    return [PendingEvent(r.id, r.event_id, r.topic, r.key, r.value, r.attempts) for r in rows]


async def mark_published(session: AsyncSession, outbox: Table, ids: Sequence[int]) -> None:
    await session.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=datetime.now(UTC)))


async def record_failure(
    session: AsyncSession, outbox: Table, row_id: int, error: str, *, park: bool
) -> None:
    """Count a failed attempt on one row, with its reason; `park` takes it out of the queue."""
    values: dict[str, object] = {"attempts": outbox.c.attempts + 1, "last_error": error[:2000]}
    if park:
        values["parked_at"] = datetime.now(UTC)
    await session.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


async def oldest_pending_at(session: AsyncSession, outbox: Table) -> datetime | None:
    """When the oldest row still waiting to go out was written (relay lag = now - this)."""
    stmt = select(func.min(outbox.c.created_at)).where(
        outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None)
    )
    value: datetime | None = (await session.execute(stmt)).scalar_one()
    if value is not None and value.tzinfo is None:  # SQLite's MIN() bypasses the column type
        value = value.replace(tzinfo=UTC)
    return value


async def count_parked(session: AsyncSession, outbox: Table) -> int:
    stmt = select(func.count()).select_from(outbox).where(outbox.c.parked_at.is_not(None))
    return int((await session.execute(stmt)).scalar_one())


async def unpublish_since(session: AsyncSession, outbox: Table, since: datetime) -> int:
    """Queue again every row written since `since` (after a broker reset lost them), in id order."""
    result = await session.execute(
        update(outbox)
        .where(outbox.c.created_at >= since, outbox.c.published_at.is_not(None), outbox.c.parked_at.is_(None))
        .values(published_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_published_before(session: AsyncSession, outbox: Table, cutoff: datetime) -> int:
    """Published rows past the republish window are no longer needed."""
    result = await session.execute(
        delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
