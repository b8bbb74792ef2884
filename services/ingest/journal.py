"""The journal: what ingest published, kept for the republish window (see shared/kafka/reset.py).

Appends are batched (one INSERT for every request in flight) and awaited, so a 202 means the
event is on the broker *and* in the journal; a broker that forgets can then be refilled. A captured
lead's email index entry (lead_index.py) rides in the same transaction: one write after each ack.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import JournalRepository, LeadIndexRepository
from shared.batching import MicroBatcher
from shared.kafka.producer import EventProducer, OutgoingMessage

# event id, what was published, and for a capture (email hash, lead id) for the email index
Entry = tuple[str, OutgoingMessage, tuple[str, str] | None]


class Journal:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], retention: timedelta) -> None:
        self._sessions = sessions
        self._retention = retention
        self._writer: MicroBatcher[Entry, None] = MicroBatcher(self._append_many)

    async def append(
        self, event_id: str, message: OutgoingMessage, person: tuple[str, str] | None = None
    ) -> None:
        await self._writer.submit((event_id, message, person))

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

    async def _append_many(self, entries: Sequence[Entry]) -> list[None]:
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            await JournalRepository(session).append([(e, m) for e, m, _ in entries], now)
            people = [person for _, _, person in entries if person is not None]
            await LeadIndexRepository(session).remember_many(people, now)
        return [None] * len(entries)
