"""The delivery ledger: which deliveries were already accepted, cheaply, durably.

Every vendor delivery carries an id, so this is on the hot path. Recent keys are answered
from memory; the rest are looked up and written in batches (one statement for all the
requests in flight), and the database keeps them across restarts for the retry span.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import DeliveryKey, DeliveryRepository, RememberedDelivery
from shared.batching import MicroBatcher


class DeliveryLedger:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], retention: timedelta, cache_size: int = 100_000
    ) -> None:
        self._sessions = sessions
        self._retention = retention
        self._cache_size = cache_size
        self._cache: OrderedDict[DeliveryKey, RememberedDelivery] = OrderedDict()
        self._finder: MicroBatcher[DeliveryKey, RememberedDelivery | None] = MicroBatcher(self._find_many)
        self._writer: MicroBatcher[tuple[DeliveryKey, RememberedDelivery], None] = MicroBatcher(
            self._remember_many
        )

    def _fresh_since(self) -> datetime:
        return datetime.now(UTC) - self._retention

    async def find(self, key: DeliveryKey) -> RememberedDelivery | None:
        cached = self._cache.get(key)
        if cached is not None and cached.created_at >= self._fresh_since():
            self._cache.move_to_end(key)
            return cached
        found = await self._finder.submit(key)
        if found is not None:
            self._keep(key, found)
        return found

    async def remember(self, key: DeliveryKey, delivery: RememberedDelivery) -> None:
        self._keep(key, delivery)
        await self._writer.submit((key, delivery))

    async def purge(self) -> int:
        """Forget deliveries older than the retry span (the senders stopped retrying them)."""
        async with self._sessions() as session, session.begin():
            return await DeliveryRepository(session).forget_before(self._fresh_since())

    def _keep(self, key: DeliveryKey, delivery: RememberedDelivery) -> None:
        self._cache[key] = delivery
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _find_many(self, keys: Sequence[DeliveryKey]) -> list[RememberedDelivery | None]:
        async with self._sessions() as session:
            found = await DeliveryRepository(session).find_many(list(set(keys)), self._fresh_since())
        return [found.get(k) for k in keys]

    async def _remember_many(self, items: Sequence[tuple[DeliveryKey, RememberedDelivery]]) -> list[None]:
        async with self._sessions() as session, session.begin():
            await DeliveryRepository(session).remember_many(list({k: r for k, r in items}.items()))
        return [None] * len(items)
