"""Report queries (read side): the funnel's GROUP BYs over the per-lead read model."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.stages import EXITS, RANK
from services.metrics.schemas import FunnelFilters
from services.metrics.tables import lead_stages, leads


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _where(self, f: FunnelFilters) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if f.captured_from is not None:
            clauses.append(leads.c.captured_at >= f.captured_from)
        if f.captured_to is not None:
            clauses.append(leads.c.captured_at < f.captured_to)
        if f.source is not None:
            clauses.append(leads.c.source == f.source)
        return clauses

    async def count_by_furthest_rank(self, f: FunnelFilters) -> dict[int, int]:
        stmt = (
            select(leads.c.furthest_rank, func.count())
            .where(leads.c.furthest_rank.is_not(None), *self._where(f))
            .group_by(leads.c.furthest_rank)
        )
        return {int(rank): int(n) for rank, n in (await self.session.execute(stmt)).all()}

    async def count_exits(self, f: FunnelFilters) -> dict[str, int]:
        stmt = (
            select(lead_stages.c.stage, func.count())
            .join(leads, leads.c.lead_id == lead_stages.c.lead_id)
            .where(lead_stages.c.stage.in_(EXITS), *self._where(f))
            .group_by(lead_stages.c.stage)
        )
        return {str(stage): int(n) for stage, n in (await self.session.execute(stmt)).all()}

    async def count_queued(self, f: FunnelFilters) -> int:
        """Leads waiting in a queue now: queued, and never handed off since."""
        stmt = (
            select(func.count())
            .select_from(lead_stages.join(leads, leads.c.lead_id == lead_stages.c.lead_id))
            .where(
                lead_stages.c.stage == "queued",
                func.coalesce(leads.c.furthest_rank, -1) < RANK["assigned"],
                *self._where(f),
            )
        )
        return int((await self.session.execute(stmt)).scalar_one())
