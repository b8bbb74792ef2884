"""All ingest SQL: the accepted deliveries (idempotency), read and written in batches."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.tables import deliveries, journal, leads_by_email
from shared.db.dialect import upsert
from shared.kafka.producer import OutgoingMessage

# What an unreachable database raises: SQLAlchemy's errors, and the driver's own socket errors
# (asyncpg's refused connection surfaces as ConnectionRefusedError, not wrapped).
DATABASE_DOWN = (SQLAlchemyError, OSError)


@dataclass(frozen=True)
class DeliveryKey:
    source: str
    scope: str  # the endpoint / event kind: a key is unique per source and scope
    key: str

    @cached_property
    def fingerprint(self) -> int:
        """64 bits of BLAKE2b, as the ledger holds keys in memory: a false match only costs one
        database read, which then says no. Computed once a key (a request looks it up, then
        remembers it)."""
        raw = f"{self.source}\x00{self.scope}\x00{self.key}".encode()
        return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


@dataclass(frozen=True)
class RememberedDelivery:
    body_hash: str
    event_id: str
    lead_id: str
    created_at: datetime


# What one acknowledged publish leaves in the database, written in one batched transaction:
# event id, the journaled message (None: no journal entry), (email hash, lead id) for the email
# index of a capture, and the delivery for the idempotency ledger when the request had a key.
AcceptedRow = tuple[
    str, OutgoingMessage | None, tuple[str, str] | None, tuple[DeliveryKey, RememberedDelivery] | None
]


class DeliveryRepository:
    """The delivery ledger's rows: appended, never updated; read by key near a known time."""

    # How far a row's stored time may be from the one the ledger holds in memory (whole seconds
    # there): the lookup reads the `created_at` index within this window, then compares keys.
    NEAR = timedelta(seconds=2)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find_many(
        self,
        keys: Sequence[DeliveryKey],
        since: datetime,
        near: Mapping[DeliveryKey, datetime] | None = None,
    ) -> dict[DeliveryKey, RememberedDelivery]:
        """The first row of each key recorded since `since`. A key with a time in `near` is read
        through the time index; one without is a scan (tests, and a ledger that never loaded)."""
        if not keys:
            return {}
        c = deliveries.c
        near = near or {}
        matches = []
        for k in dict.fromkeys(keys):
            same = and_(c.source == k.source, c.scope == k.scope, c.delivery_key == k.key)
            at = near.get(k)
            if at is not None:
                same = and_(c.created_at >= at - self.NEAR, c.created_at <= at + self.NEAR, same)
            matches.append(same)
        rows = await self.session.execute(
            select(c.source, c.scope, c.delivery_key, c.body_hash, c.event_id, c.lead_id, c.created_at)
            .where(c.created_at >= since, or_(*matches))
            .order_by(c.id)
        )
        found: dict[DeliveryKey, RememberedDelivery] = {}
        for r in rows:  # two instances may both have recorded a key: the first row answers
            found.setdefault(
                DeliveryKey(r.source, r.scope, r.delivery_key),
                RememberedDelivery(r.body_hash, r.event_id, r.lead_id, r.created_at),
            )
        return found

    async def keys_since(self, since: datetime) -> list[tuple[DeliveryKey, datetime]]:
        c = deliveries.c
        rows = await self.session.execute(
            select(c.source, c.scope, c.delivery_key, c.created_at).where(c.created_at >= since)
        )
        return [(DeliveryKey(r.source, r.scope, r.delivery_key), r.created_at) for r in rows]

    async def remember_many(self, items: Sequence[tuple[DeliveryKey, RememberedDelivery]]) -> None:
        if not items:
            return
        await self.session.execute(
            insert(deliveries),
            [
                {
                    "source": k.source,
                    "scope": k.scope,
                    "delivery_key": k.key,
                    "body_hash": r.body_hash,
                    "event_id": r.event_id,
                    "lead_id": r.lead_id,
                    "created_at": r.created_at,
                }
                for k, r in items
            ],
        )

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(deliveries).where(deliveries.c.created_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


class SessionAcceptedRepository:
    """The after-ack batch through the async session (any database; SQLite files get
    sqlite_repository.SqliteAcceptedRepository, one thread hop per batch)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def write(self, rows: Sequence[AcceptedRow], at: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await JournalRepository(session).append([(e, m) for e, m, _, _ in rows if m is not None], at)
            await LeadIndexRepository(session).remember_many([p for _, _, p, _ in rows if p], at)
            await DeliveryRepository(session).remember_many(
                list({d[0]: d[1] for _, _, _, d in rows if d is not None}.items())
            )

    async def close(self) -> None:
        return None


class JournalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, entries: Sequence[tuple[str, OutgoingMessage]], at: datetime) -> None:
        if not entries:
            return
        await self.session.execute(
            insert(journal),
            [
                {
                    "event_id": event_id,
                    "topic": m.topic,
                    "key": m.key.decode() if m.key else None,
                    "value": m.value,
                    "published_at": at,
                }
                for event_id, m in entries
            ],
        )

    async def since(
        self, since: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str, OutgoingMessage]]:
        c = journal.c
        rows = await self.session.execute(
            select(c.id, c.event_id, c.topic, c.key, c.value)
            .where(c.published_at >= since, c.id > after_id)
            .order_by(c.id)
            .limit(limit)
        )
        return [
            (r.id, r.event_id, OutgoingMessage(r.topic, r.key.encode() if r.key else None, r.value))
            for r in rows
        ]

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(journal).where(journal.c.published_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


class LeadIndexRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember_many(self, items: Sequence[tuple[str, str]], at: datetime) -> None:
        """(email hash, lead id) pairs: one row per lead of an address, stamped with its latest capture."""
        if not items:
            return
        rows = [
            {"email_hash": h, "lead_id": lead_id, "updated_at": at} for h, lead_id in dict.fromkeys(items)
        ]
        await self.session.execute(
            upsert(self.session, leads_by_email, ["email_hash", "lead_id"], ["updated_at"]), rows
        )

    async def find(self, email_hash: str) -> str | None:
        """The lead of the address's latest capture."""
        c = leads_by_email.c
        stmt = (
            select(c.lead_id)
            .where(c.email_hash == email_hash)
            .order_by(c.updated_at.desc(), c.lead_id)
            .limit(1)
        )
        found: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def lead_ids(self, email_hash: str) -> list[str]:
        """Every lead the address came in with, oldest first."""
        c = leads_by_email.c
        stmt = select(c.lead_id).where(c.email_hash == email_hash).order_by(c.updated_at, c.lead_id)
        return list((await self.session.execute(stmt)).scalars())

    async def forget(self, email_hash: str) -> int:
        result = await self.session.execute(
            delete(leads_by_email).where(leads_by_email.c.email_hash == email_hash)
        )
        return int(getattr(result, "rowcount", 0) or 0)
