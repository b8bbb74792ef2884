"""Timeline queries: one lead's facts, its row and its stage rows (all from the metrics DB)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.facts import Fact
from services.metrics.tables import events, lead_stages, leads


async def lead_facts(session: AsyncSession, lead_id: str) -> list[Fact]:
    stmt = select(events).where(events.c.lead_id == lead_id).order_by(events.c.occurred_at, events.c.event_id)
    return [
        Fact.from_row(r["event_id"], r["lead_id"], r["type"], r["occurred_at"], r["body"])
        for r in (await session.execute(stmt)).mappings()
    ]


async def lead_row(session: AsyncSession, lead_id: str) -> dict[str, Any] | None:
    row = (await session.execute(select(leads).where(leads.c.lead_id == lead_id))).mappings().one_or_none()
    return dict(row) if row else None


async def stage_rows(session: AsyncSession, lead_id: str) -> list[dict[str, Any]]:
    stmt = select(lead_stages).where(lead_stages.c.lead_id == lead_id).order_by(lead_stages.c.first_at)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]
