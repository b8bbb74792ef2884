"""Pipeline queries: the opportunities in scope (a small share of leads) and time in stage."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.pipeline import Opportunity
from services.metrics.reports.repository import DIMENSION_COLUMNS, cohort_where, filters_where
from services.metrics.reports.scope import Scope
from services.metrics.tables import lead_stages, leads


@dataclass(frozen=True)
class StageTimeRow:
    group: str | None
    stage: str
    leads: int  # leads that left the stage at least once
    mean_seconds: float | None


async def opportunities(session: AsyncSession, scope: Scope) -> list[Opportunity]:
    """Every opportunity matching the filters, whatever its dates (the window is applied per figure)."""
    group = DIMENSION_COLUMNS[scope.by] if scope.by else literal(None)
    stmt = select(
        group,
        leads.c.team,
        leads.c.rep_id,
        leads.c.captured_at,
        leads.c.sql_at,
        leads.c.won_at,
        leads.c.lost_at,
        leads.c.deal_value,
        leads.c.expected_close,
    ).where(
        or_(leads.c.sql_at.is_not(None), leads.c.won_at.is_not(None), leads.c.lost_at.is_not(None)),
        *filters_where(scope),
    )
    return [
        Opportunity(None if r[0] is None else str(r[0]), *r[1:]) for r in (await session.execute(stmt)).all()
    ]


async def time_in_stage(session: AsyncSession, scope: Scope) -> list[StageTimeRow]:
    """Mean cumulative time per stage for the cohort, over the leads that left the stage."""
    keys = [DIMENSION_COLUMNS[scope.by]] if scope.by else []
    group = keys[0] if keys else literal(None)
    stmt = (
        select(group, lead_stages.c.stage, func.count(lead_stages.c.seconds), func.avg(lead_stages.c.seconds))
        .join(leads, leads.c.lead_id == lead_stages.c.lead_id)
        .where(*cohort_where(scope))
        .group_by(*keys, lead_stages.c.stage)
    )
    return [
        StageTimeRow(None if g is None else str(g), str(stage), int(n), None if avg is None else float(avg))
        for g, stage, n, avg in (await session.execute(stmt)).all()
    ]
