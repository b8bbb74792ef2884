"""Publishes committed outbox rows to Kafka, in order, marking them once acknowledged.

Woken right after a handler commits (low latency) and on a timer (catches up after a
crash between commit and publish). A crash after the broker's ack but before the row is
marked republishes the same event id: consumers deduplicate on it.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.db.outbox import lock_pending, mark_published
from shared.kafka.producer import EventProducer, OutgoingMessage
from shared.logging import get_logger

log = get_logger(__name__)


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        producer: EventProducer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wakeup = asyncio.Event()

    def wakeup(self) -> None:
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows went out."""
        async with self._sessions() as session, session.begin():
            rows = await lock_pending(session, self._outbox, self._batch_size)
            if not rows:
                return 0
            await self._producer.publish_many(
                [OutgoingMessage(r.topic, r.key.encode() if r.key else None, r.value) for r in rows]
            )
            await mark_published(session, self._outbox, [r.id for r in rows])
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            # Cleared before reading, so a commit that lands mid-publish still wakes the next round.
            self._wakeup.clear()
            try:
                while await self.publish_pending() == self._batch_size:
                    pass
                backoff.reset()
            except Exception as exc:  # broker or database trouble: the rows stay, the next round retries
                log.warning("outbox_publish_retry", error=repr(exc), retry_in_s=backoff.delay_s)
                await backoff.wait()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval_s)
