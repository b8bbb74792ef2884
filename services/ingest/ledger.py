"""The delivery ledger: which deliveries were already accepted, cheaply, durably.

Every vendor delivery carries an id, so this is on the hot path, and nearly every delivery is
new. So the ledger keeps every key accepted within the retry span in memory, as a fingerprint (8
bytes of hash) with the second it was accepted, loaded from the database at start: a key it has
never seen needs no database read at all. Keys it has seen are answered from a cache of recent
records, or read from the database near the time it holds for them (the table is append-only, with
only a time index: a key index made every accepted delivery a random B-tree insert, i0007). Writes
go out in batches (one statement for all the requests in flight; with a journal, in its batch).

If the ledger could not be loaded (the database was down at start), it tries again at most every
few seconds, and until it has, it answers "not seen": a repeat is then published again with the
same event id (derived from the key), which consumers drop, and answers 202 instead of 200.

With several ingest instances, a repeat that reaches another instance than the original
within the same run is not in that instance's memory: it is published again with the same event
id, which consumers drop; it answers 202 instead of 200.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import DATABASE_DOWN, DeliveryKey, DeliveryRepository, RememberedDelivery
from shared.batching import MicroBatcher
from shared.logging import get_logger

log = get_logger(__name__)

LOAD_RETRY_S = 5.0


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
        # Fingerprint -> epoch second of the first acceptance: ints only, which the collector
        # never walks; ~100 bytes a key.
        self._seen: dict[int, int] = {}
        self._loaded = False
        self._next_load = 0.0  # time.monotonic() before which a failed load is not tried again
        self._finder: MicroBatcher[DeliveryKey, RememberedDelivery | None] = MicroBatcher(self._find_many)
        self._writer: MicroBatcher[tuple[DeliveryKey, RememberedDelivery], None] = MicroBatcher(
            self._remember_many
        )

    def _fresh_since(self) -> datetime:
        return datetime.now(UTC) - self._retention

    async def load(self) -> int:
        """Every key within the retry span, with its time (at start; see `find` until then)."""
        async with self._sessions() as session:
            rows = await DeliveryRepository(session).keys_since(self._fresh_since())
        for key, at in rows:
            self._hold(key.fingerprint, int(at.timestamp()))
        self._loaded = True
        return len(rows)

    async def find(self, key: DeliveryKey) -> RememberedDelivery | None:
        if not self._loaded and not await self._try_load():
            return None  # cannot tell: accepted, and a repeat keeps its event id (module docstring)
        at = self._seen.get(key.fingerprint)
        if at is None or at < time.time() - self._retention.total_seconds():
            return None  # never accepted here within the span: no database read
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
        database and in memory."""
        cutoff = self._fresh_since()
        async with self._sessions() as session, session.begin():
            forgotten = await DeliveryRepository(session).forget_before(cutoff)
        oldest = int(cutoff.timestamp())
        for fingerprint in [f for f, at in self._seen.items() if at < oldest]:
            del self._seen[fingerprint]
        return forgotten

    async def _try_load(self) -> bool:
        now = time.monotonic()
        if now < self._next_load:
            return False
        self._next_load = now + LOAD_RETRY_S  # set first: concurrent requests do not pile on
        try:
            keys = await self.load()
        except DATABASE_DOWN as exc:
            log.warning("delivery_ledger_not_loaded", error=repr(exc))
            return False
        log.info("delivery_ledger_loaded", keys=keys)
        return True

    def _hold(self, fingerprint: int, at: int) -> None:
        """The first acceptance's second, unless that one is past the span (then this is a new one)."""
        held = self._seen.get(fingerprint)
        if held is None or held > at or held < time.time() - self._retention.total_seconds():
            self._seen[fingerprint] = at

    def _keep(self, key: DeliveryKey, delivery: RememberedDelivery) -> None:
        d = delivery
        self._hold(key.fingerprint, int(d.created_at.timestamp()))
        cache_key = _key(key)
        self._cache[cache_key] = (d.body_hash, d.event_id, d.lead_id, d.created_at)
        self._cache.move_to_end(cache_key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _find_many(self, keys: Sequence[DeliveryKey]) -> list[RememberedDelivery | None]:
        near = {
            k: datetime.fromtimestamp(at, UTC)
            for k in keys
            if (at := self._seen.get(k.fingerprint)) is not None
        }
        async with self._sessions() as session:
            found = await DeliveryRepository(session).find_many(list(keys), self._fresh_since(), near)
        return [found.get(k) for k in keys]

    async def _remember_many(self, items: Sequence[tuple[DeliveryKey, RememberedDelivery]]) -> list[None]:
        async with self._sessions() as session, session.begin():
            await DeliveryRepository(session).remember_many(list({k: r for k, r in items}.items()))
        return [None] * len(items)


_Key = tuple[str, str, str]
_Record = tuple[str, str, str, datetime]


def _key(key: DeliveryKey) -> _Key:
    return (key.source, key.scope, key.key)
