"""Which lead an email address belongs to, so a sales tool can post an activity by email.

Written with every capture (batched, best effort: the capture is already acknowledged), read
when an activity names an email but no lead id. Addresses are stored as SHA-256 hashes of their
normalised form, never in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import LeadIndexRepository
from shared.batching import MicroBatcher


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class LeadIndex:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._writer: MicroBatcher[tuple[str, str], None] = MicroBatcher(self._remember_many)

    async def remember(self, email: str, lead_id: str) -> None:
        await self._writer.submit((email_hash(email), lead_id))

    async def find(self, email: str) -> str | None:
        async with self._sessions() as session:
            return await LeadIndexRepository(session).find(email_hash(email))

    async def _remember_many(self, items: Sequence[tuple[str, str]]) -> list[None]:
        async with self._sessions() as session, session.begin():
            await LeadIndexRepository(session).remember_many(items, datetime.now(UTC))
        return [None] * len(items)
