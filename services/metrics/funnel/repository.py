"""The funnel's one GROUP BY: per breakdown value, source and furthest stage, counts and deal values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.stages import RANK
from services.metrics.reports.repository import DIMENSION_COLUMNS, cohort_where
from services.metrics.reports.scope import Scope
from services.metrics.tables import leads


@dataclass(frozen=True)
class FunnelRow:
    group: str | None  # the breakdown value (None without a breakdown, or when the lead has none)
    source: str | None
    furthest_rank: int | None
    leads: int
    valued: int  # leads with a known deal value
    value_sum: float
    exits: dict[str, int]
    queued: int


async def funnel_rows(session: AsyncSession, scope: Scope) -> list[FunnelRow]:
    # PostgreSQL refuses a constant in GROUP BY: without a breakdown, select NULL but group by less.
    keys = [DIMENSION_COLUMNS[scope.by]] if scope.by else []
    group = keys[0] if keys else literal(None)
    waiting = (leads.c.queued_at.is_not(None)) & (func.coalesce(leads.c.furthest_rank, -1) < RANK["assigned"])
    stmt = (
        select(
            group.label("grp"),
            leads.c.source,
            leads.c.furthest_rank,
            func.count(),
            func.count(leads.c.deal_value),
            func.coalesce(func.sum(leads.c.deal_value), 0.0),
            func.count(leads.c.disqualified_at),
            func.count(leads.c.nurturing_at),
            func.count(leads.c.rejected_at),
            func.count(leads.c.lost_at),
            func.sum(case((waiting, 1), else_=0).cast(Integer)),
        )
        .where(*cohort_where(scope))
        .group_by(*keys, leads.c.source, leads.c.furthest_rank)
    )
    return [
        FunnelRow(
            group=None if grp is None else str(grp),
            source=source,
            furthest_rank=rank,
            leads=int(n),
            valued=int(valued),
            value_sum=float(value_sum),
            exits={"disqualified": int(d), "nurturing": int(nu), "rejected": int(r), "lost": int(lo)},
            queued=int(q or 0),
        )
        for grp, source, rank, n, valued, value_sum, d, nu, r, lo, q in (await session.execute(stmt)).all()
    ]
