"""All router SQL: inbox, rotation, decisions, outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.router.domain.decision import DecisionRecord
from services.router.tables import decisions, inbox, outbox, rotation
from shared.db.dialect import insert_ignoring_conflicts
from shared.db.inbox import claim_event
from shared.db.outbox import add_events
from shared.events import CloudEvent


class RouterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, event_id: str) -> bool:
        return await claim_event(self.session, inbox, event_id)

    async def claim_many(self, event_ids: Sequence[str]) -> set[str]:
        """Claim a batch's events in one statement; the ids that were not processed before."""
        if not event_ids:
            return set()
        now = datetime.now(UTC)
        stmt = (
            insert_ignoring_conflicts(self.session, inbox)
            .values([{"event_id": e, "processed_at": now} for e in dict.fromkeys(event_ids)])
            .returning(inbox.c.event_id)
        )
        return set((await self.session.execute(stmt)).scalars())

    async def lock_rotation(self, team: str) -> str | None:
        """The team's last assigned rep, row-locked until commit so instances take turns."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, rotation).values(team=team, assignments=0)
        )
        row = await self.session.execute(
            select(rotation.c.last_rep_id).where(rotation.c.team == team).with_for_update()
        )
        last_rep_id: str | None = row.scalar_one()
        return last_rep_id

    async def advance_rotation(self, team: str, rep_id: str) -> None:
        await self.session.execute(
            update(rotation)
            .where(rotation.c.team == team)
            .values(last_rep_id=rep_id, assignments=rotation.c.assignments + 1, updated_at=datetime.now(UTC))
        )

    async def record(self, records: Sequence[DecisionRecord]) -> None:
        if records:
            await self.session.execute(insert(decisions), [r.__dict__ for r in records])

    async def enqueue(self, topic: str, events: Sequence[CloudEvent]) -> None:
        if not events:
            return
        await add_events(self.session, outbox, [(e.id, topic, e.subject, e.to_bytes()) for e in events])
