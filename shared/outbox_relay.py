"""Publishes committed outbox rows to Kafka, in order, marking them once acknowledged.

Woken right after a handler commits (low latency) and on a timer (catches up after a
crash between commit and publish). A crash after the broker's ack but before the row is
marked republishes the same event id: consumers deduplicate on it.

Failures are sorted like the consumer loop sorts them. Broker or database unreachable:
the rows stay and the next round retries, with backoff, for as long as it takes. Anything
else (a record the broker will never take, a bug): the batch is retried row by row so the
culprit is found, and a row that fails `max_attempts` times is parked with its reason,
counted and logged as an error; the rows behind it go on. Readiness reports the relay's
lag, so a relay that is stuck is visible, never a green `/readyz` over lost handoffs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta

from aiokafka.errors import KafkaConnectionError, KafkaError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.db import is_transient_db_error
from shared.db.outbox import (
    PendingEvent,
    forget_published_before,
    lock_pending,
    mark_published,
    oldest_pending_at,
    record_failure,
    unpublish_since,
)
from shared.kafka.producer import BrokerUnavailable, EventProducer, OutgoingMessage
from shared.logging import get_logger
from shared.observability import OUTBOX_LAG, OUTBOX_PARKED, OUTBOX_PUBLISHED

log = get_logger(__name__)


def is_transient_publish_error(exc: BaseException) -> bool:
    """True when waiting can fix it: the broker or the database is unreachable or busy."""
    cause = exc.__cause__ if isinstance(exc, BrokerUnavailable) and exc.__cause__ else exc
    if isinstance(cause, KafkaError):
        # aiokafka marks what a retry can fix; a connection error always can.
        return bool(cause.retriable) or isinstance(cause, KafkaConnectionError)
    if isinstance(exc, BrokerUnavailable):
        return True  # no ack in time, broker gone: wait for it
    return is_transient_db_error(exc)


def _message(row: PendingEvent) -> OutgoingMessage:
    return OutgoingMessage(row.topic, row.key.encode() if row.key else None, row.value)


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        producer: EventProducer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        max_attempts: int = 5,
        max_lag_s: float = 30.0,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._max_attempts = max_attempts
        self._max_lag_s = max_lag_s
        self._wakeup = asyncio.Event()
        self._name = outbox.name
        self.lag_s = 0.0
        self._last_success = time.monotonic()

    def wakeup(self) -> None:
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were handled (published or failed)."""
        async with self._sessions() as session, session.begin():
            rows = await lock_pending(session, self._outbox, self._batch_size)
            if not rows:
                return 0
            try:
                await self._producer.publish_many([_message(r) for r in rows])
                published = [r.id for r in rows]
            except Exception as exc:
                if is_transient_publish_error(exc):
                    raise
                log.warning("outbox_batch_failed", outbox=self._name, rows=len(rows), error=repr(exc))
                published = await self._one_by_one(session, rows)
            await mark_published(session, self._outbox, published)
        OUTBOX_PUBLISHED.labels(self._name).inc(len(published))
        return len(rows)

    async def _one_by_one(self, session: AsyncSession, rows: list[PendingEvent]) -> list[int]:
        """Find the rows that fail on their own; count their attempts, park the hopeless ones."""
        published: list[int] = []
        for row in rows:
            try:
                await self._producer.publish(_message(row))
                published.append(row.id)
            except Exception as exc:
                if is_transient_publish_error(exc):
                    raise
                park = row.attempts + 1 >= self._max_attempts
                await record_failure(session, self._outbox, row.id, repr(exc), park=park)
                if park:
                    OUTBOX_PARKED.labels(self._name).inc()
                    log.error(
                        "outbox_row_parked",
                        outbox=self._name,
                        event_id=row.event_id,
                        attempts=row.attempts + 1,
                        error=repr(exc),
                    )
        return published

    async def republish_since(self, window: timedelta) -> int:
        """After a broker reset: send again what was published within the window (stable ids)."""
        async with self._sessions() as session, session.begin():
            count = await unpublish_since(session, self._outbox, datetime.now(UTC) - window)
        self.wakeup()
        return count

    async def forget_published(self, window: timedelta) -> int:
        async with self._sessions() as session, session.begin():
            return await forget_published_before(session, self._outbox, datetime.now(UTC) - window)

    async def measure_lag(self) -> float:
        async with self._sessions() as session:
            oldest = await oldest_pending_at(session, self._outbox)
        self.lag_s = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
        OUTBOX_LAG.labels(self._name).set(self.lag_s)
        return self.lag_s

    def healthy(self) -> bool:
        """Ready unless events wait over `max_lag_s`, or the relay has not got through for that long."""
        stalled = time.monotonic() - self._last_success > self._max_lag_s
        return self.lag_s <= self._max_lag_s and not stalled

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            # Cleared before reading, so a commit that lands mid-publish still wakes the next round.
            self._wakeup.clear()
            try:
                while await self.publish_pending() == self._batch_size:
                    pass
                await self.measure_lag()
                self._last_success = time.monotonic()
                backoff.reset()
            except Exception as exc:
                if not is_transient_publish_error(exc):
                    raise  # a bug in the relay itself: let the process die and be restarted
                log.warning(
                    "outbox_publish_retry", outbox=self._name, error=repr(exc), retry_in_s=backoff.delay_s
                )
                await backoff.wait()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval_s)
