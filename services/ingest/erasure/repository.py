"""Erasure SQL: the person's leads (from the email index), and rewriting their journal entries."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingest.repository import LeadIndexRepository
from services.ingest.tables import journal


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.index = LeadIndexRepository(session)

    async def rewrite_journal(self, lead_ids: Sequence[str], rewrite: Callable[[bytes], bytes]) -> int:
        """Replace the journaled bytes of these leads' events by `rewrite(bytes)`; how many rows.

        A scan of the journal's window (no index on the lead id, see migration i0006): erasures
        are rare, journal writes are every request."""
        if not lead_ids:
            return 0
        c = journal.c
        rows = (await self.session.execute(select(c.id, c.value).where(c.key.in_(list(lead_ids))))).all()
        changed = [{"row_id": r.id, "new_value": rewrite(r.value)} for r in rows]
        if changed:
            await self.session.execute(
                update(journal).where(c.id == bindparam("row_id")).values(value=bindparam("new_value")),
                changed,
            )
        return len(changed)
