"""The write side's SQL: the append-only transition log and the per-lead fold (stages, furthest rank).

Kept apart from the report queries so `replay` can rebuild the read model with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.stages import Transition, furthest_rank
from services.metrics.tables import inbox, lead_stages, leads, transitions
from shared.db.dialect import insert_ignoring_conflicts
from shared.db.inbox import claim_event


class ProjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, event_id: str) -> bool:
        return await claim_event(self.session, inbox, event_id)

    async def apply(self, lead_id: str, source: str | None, items: Sequence[Transition]) -> None:
        """Record transitions for one lead and fold them into its row (locked: instances may race)."""
        now = datetime.now(UTC)
        await self.session.execute(
            insert_ignoring_conflicts(self.session, leads).values(lead_id=lead_id, updated_at=now)
        )
        row = (
            await self.session.execute(
                select(leads.c.source, leads.c.captured_at, leads.c.furthest_rank)
                .where(leads.c.lead_id == lead_id)
                .with_for_update()
            )
        ).one()
        captured = [t.occurred_at for t in items if t.stage == "captured"]
        ranks = [r for r in (row.furthest_rank, furthest_rank([t.stage for t in items])) if r is not None]
        await self.session.execute(
            update(leads)
            .where(leads.c.lead_id == lead_id)
            .values(
                source=row.source or source,
                captured_at=min([*captured, *([row.captured_at] if row.captured_at else [])], default=None),
                furthest_rank=max(ranks) if ranks else None,
                updated_at=now,
            )
        )
        await self.session.execute(
            insert(transitions),
            [
                {
                    "event_id": t.event_id,
                    "lead_id": lead_id,
                    "stage": t.stage,
                    "event_type": t.event_type,
                    "occurred_at": t.occurred_at,
                    "recorded_at": now,
                }
                for t in items
            ],
        )
        for t in items:
            await self._fold_stage(lead_id, t)

    async def _fold_stage(self, lead_id: str, t: Transition) -> None:
        current = (
            await self.session.execute(
                select(lead_stages.c.first_at, lead_stages.c.last_at).where(
                    lead_stages.c.lead_id == lead_id, lead_stages.c.stage == t.stage
                )
            )
        ).one_or_none()
        if current is None:
            await self.session.execute(
                insert(lead_stages).values(
                    lead_id=lead_id, stage=t.stage, first_at=t.occurred_at, last_at=t.occurred_at, entries=1
                )
            )
            return
        await self.session.execute(
            update(lead_stages)
            .where(lead_stages.c.lead_id == lead_id, lead_stages.c.stage == t.stage)
            .values(
                first_at=min(current.first_at, t.occurred_at),
                last_at=max(current.last_at, t.occurred_at),
                entries=lead_stages.c.entries + 1,
            )
        )
