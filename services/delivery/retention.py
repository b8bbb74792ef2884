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
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.delivery.clock import Clock
from services.delivery.retention_repository import BATCH, RetentionRepository
from shared.db import is_transient_db_error
from shared.logging import get_logger

log = get_logger(__name__)


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
