"""The retention purge's SQL (services/delivery/retention.py runs it): delivered messages with
their attempts, dead letters on an operator's word, idle lead-cache rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.delivery.tables import attempts, leads, messages

BATCH = 500


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def purge_delivered(self, before: datetime, limit: int = BATCH) -> int:
        """Up to `limit` messages delivered before `before`, with their attempts. How many."""
        stmt = (
            select(messages.c.id)
            .where(messages.c.status == "delivered", messages.c.updated_at < before)
            .order_by(messages.c.id)
            .limit(limit)
        )
        return await self._delete(list((await self.session.execute(stmt)).scalars()))

    async def purge_dead(self, ids: Collection[int] | None, target: str | None) -> int:
        """Dead letters (these ids, or all, optionally of one target), with their attempts."""
        stmt = select(messages.c.id).where(messages.c.status == "dead")
        if ids is not None:
            stmt = stmt.where(messages.c.id.in_(list(ids)))
        if target:
            stmt = stmt.where(messages.c.target == target)
        return await self._delete(list((await self.session.execute(stmt)).scalars()))

    async def purge_idle_leads(self, before: datetime) -> int:
        """Lead-cache rows untouched since `before` that no pending or dead message still needs."""
        needed = exists().where(
            messages.c.lead_id == leads.c.lead_id, messages.c.status.in_(("pending", "dead"))
        )
        result = await self.session.execute(delete(leads).where(leads.c.updated_at < before, ~needed))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _delete(self, ids: list[int]) -> int:
        if ids:
            await self.session.execute(delete(attempts).where(attempts.c.message_pk.in_(ids)))
            await self.session.execute(delete(messages).where(messages.c.id.in_(ids)))
        return len(ids)
