"""The delivery ledger: which deliveries were already accepted, cheaply, durably.

Every vendor delivery carries an id, so this is on the hot path, and nearly every delivery is
new. So the ledger keeps a fingerprint of every key accepted within the retry span in memory
(loaded from the database at start, 8 bytes of hash each): a key it has never seen needs no
database read at all. Keys it has seen are answered from a cache of recent records, or looked
up; writes go out in batches (one statement for all the requests in flight), and the database
keeps the keys across restarts.

With several ingest instances, a repeat that reaches another instance than the original
within the same run is not in that instance's fingerprints: it is published again with the
same event id (derived from the key), which consumers drop; it answers 202 instead of 200.
"""

from __future__ import annotations

import hashlib
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
        # Plain tuples of strings and datetimes, not the dataclasses: the garbage collector stops
        # tracking such tuples, so up to `cache_size` entries cost its full collections nothing
        # (as dataclass instances they were walked on every one: bench/ingest.py, signed deliveries).
        self._cache: OrderedDict[_Key, _Record] = OrderedDict()
        self._seen: set[int] = set()
        self._loaded = False
        self._finder: MicroBatcher[DeliveryKey, RememberedDelivery | None] = MicroBatcher(self._find_many)
        self._writer: MicroBatcher[tuple[DeliveryKey, RememberedDelivery], None] = MicroBatcher(
            self._remember_many
        )

    def _fresh_since(self) -> datetime:
        return datetime.now(UTC) - self._retention

    async def load(self) -> int:
        """Fingerprint every key within the retry span (at start; until then, every miss asks the DB)."""
        async with self._sessions() as session:
            keys = await DeliveryRepository(session).keys_since(self._fresh_since())
        self._seen.update(_fingerprint(k) for k in keys)
        self._loaded = True
        return len(keys)

    async def find(self, key: DeliveryKey) -> RememberedDelivery | None:
        if self._loaded and _fingerprint(key) not in self._seen:
            return None  # never accepted here: no database read
        cached = self._cache.get(_key(key))
        if cached is not None and cached[3] >= self._fresh_since():
            self._cache.move_to_end(_key(key))
            return RememberedDelivery(*cached)
        found = await self._finder.submit(key)
        if found is not None:
            self._keep(key, found)
        return found

    async def remember(self, key: DeliveryKey, delivery: RememberedDelivery) -> None:
        self._keep(key, delivery)
        await self._writer.submit((key, delivery))

    def note(self, key: DeliveryKey, delivery: RememberedDelivery) -> None:
        """Remember in memory only: the caller writes the row itself (the journal's batch carries
        it, so an accepted request costs one transaction, not two)."""
        self._keep(key, delivery)

    async def purge(self) -> int:
        """Forget deliveries older than the retry span (the senders stopped retrying them), in the
        database and in the fingerprints (rebuilt from what is left, so memory stays bounded)."""
        async with self._sessions() as session, session.begin():
            forgotten = await DeliveryRepository(session).forget_before(self._fresh_since())
        if forgotten:
            self._seen.clear()
            await self.load()
        return forgotten

    def _keep(self, key: DeliveryKey, delivery: RememberedDelivery) -> None:
        self._seen.add(_fingerprint(key))
        cache_key = _key(key)
        d = delivery
        self._cache[cache_key] = (d.body_hash, d.event_id, d.lead_id, d.created_at)
        self._cache.move_to_end(cache_key)
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


_Key = tuple[str, str, str]
_Record = tuple[str, str, str, datetime]


def _key(key: DeliveryKey) -> _Key:
    return (key.source, key.scope, key.key)


def _fingerprint(key: DeliveryKey) -> int:
    """64 bits of BLAKE2b: a false match only costs one database read, which then says no."""
    raw = f"{key.source}\x00{key.scope}\x00{key.key}".encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")
