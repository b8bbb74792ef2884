"""The journal: what ingest published, kept for the republish window (see shared/kafka/reset.py).

Appends are batched (one transaction for every request in flight) and awaited, so a 202 means
the event is on the broker *and* in the journal; a broker that forgets can then be refilled. A
captured lead's email index entry (lead_index.py) and the request's delivery-ledger entry
(ledger.py) ride in the same transaction: one write after each ack. On a SQLite file that
transaction is one hop to a writer thread (sqlite_repository.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import (
    AcceptedRow,
    DeliveryKey,
    JournalRepository,
    RememberedDelivery,
    SessionAcceptedRepository,
)
from shared.batching import MicroBatcher
from shared.kafka.producer import EventProducer, OutgoingMessage


class AcceptedStore(Protocol):
    async def write(self, rows: Sequence[AcceptedRow], at: datetime) -> None: ...

    async def close(self) -> None: ...


class Journal:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        retention: timedelta,
        store: AcceptedStore | None = None,
    ) -> None:
        self._sessions = sessions
        self._retention = retention
        self._store = store or SessionAcceptedRepository(sessions)
        self._writer: MicroBatcher[AcceptedRow, None] = MicroBatcher(self._append_many)

    async def append(
        self,
        event_id: str,
        message: OutgoingMessage,
        person: tuple[str, str] | None = None,
        delivery: tuple[DeliveryKey, RememberedDelivery] | None = None,
    ) -> None:
        """Journal a published message, with its email-index and delivery-ledger entries."""
        await self._writer.submit((event_id, message, person, delivery))

    async def close(self) -> None:
        await self._store.close()

    async def republish(self, producer: EventProducer, chunk: int = 500) -> int:
        """Publish the window again, in the order it was first published."""
        since = datetime.now(UTC) - self._retention
        count, after = 0, 0
        while True:
            async with self._sessions() as session:
                rows = await JournalRepository(session).since(since, after, chunk)
            if not rows:
                return count
            await producer.publish_many([message for _, _, message in rows])
            count += len(rows)
            after = rows[-1][0]

    async def purge(self) -> int:
        async with self._sessions() as session, session.begin():
            return await JournalRepository(session).forget_before(datetime.now(UTC) - self._retention)

    async def _append_many(self, entries: Sequence[AcceptedRow]) -> list[None]:
        await self._store.write(entries, datetime.now(UTC))
        return [None] * len(entries)
