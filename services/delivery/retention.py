"""Retention: what was delivered is purged `retention_days` after its delivery, in small batches.

Delivered messages (body = the handoff event, personal data) and their attempt rows go; so do
lead-cache rows untouched as long, once no pending or dead message of the lead is left (a replay
would still want the name for a notification). Dead letters stay until replayed (then they are
delivered and age like the rest) or purged by hand: `leadrelay deliveries purge`.

The purge is idempotent and batch-sized, so several deliverers running it at once only share the
work, and a big backlog after an upgrade does not hold a long write lock (SQLite has one writer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.tables import attempts, leads, messages
from shared.db import is_transient_db_error
from shared.logging import get_logger

log = get_logger(__name__)
BATCH = 500


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def purge_delivered(self, before: datetime, limit: int = BATCH) -> int:
        """Up to `limit` messages delivered before `before`, with their attempts. How many."""
        stmt = (
            select(messages.c.id)
            .where(messages.c.status == "delivered", messages.c.updated_at < before)
            .order_by(messages.c.id)
            .limit(limit)
        )
        return await self._delete(list((await self.session.execute(stmt)).scalars()))

    async def purge_dead(self, ids: Collection[int] | None, target: str | None) -> int:
        """Dead letters (these ids, or all, optionally of one target), with their attempts."""
        stmt = select(messages.c.id).where(messages.c.status == "dead")
        if ids is not None:
            stmt = stmt.where(messages.c.id.in_(list(ids)))
        if target:
            stmt = stmt.where(messages.c.target == target)
        return await self._delete(list((await self.session.execute(stmt)).scalars()))

    async def purge_idle_leads(self, before: datetime) -> int:
        """Lead-cache rows untouched since `before` that no pending or dead message still needs."""
        needed = exists().where(
            messages.c.lead_id == leads.c.lead_id, messages.c.status.in_(("pending", "dead"))
        )
        result = await self.session.execute(delete(leads).where(leads.c.updated_at < before, ~needed))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _delete(self, ids: list[int]) -> int:
        if ids:
            await self.session.execute(delete(attempts).where(attempts.c.message_pk.in_(ids)))
            await self.session.execute(delete(messages).where(messages.c.id.in_(ids)))
        return len(ids)


async def purge_expired(
    sessions: async_sessionmaker[AsyncSession], now: datetime, retention_days: float
) -> int:
    """One pass: every delivered message older than the retention, batch by batch. How many."""
    before = now - timedelta(days=retention_days)
    total = 0
    while True:
        async with sessions() as session, session.begin():
            count = await RetentionRepository(session).purge_delivered(before)
        total += count
        if count < BATCH:
            break
    async with sessions() as session, session.begin():
        idle = await RetentionRepository(session).purge_idle_leads(before)
    if total or idle:
        log.info("delivery_retention_purged", messages=total, leads=idle, retention_days=retention_days)
    return total


async def retention_loop(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    retention_days: float,
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """A pass at start, then every `interval_s`; a database hiccup waits for the next pass."""
    while not stop.is_set():
        try:
            await purge_expired(sessions, clock.now(), retention_days)
        except Exception as exc:
            if not is_transient_db_error(exc):
                raise
            log.warning("delivery_retention_retry", error=repr(exc), retry_in_s=interval_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
