"""The dashboard's SQL. Every query is bounded (LIMIT, or a GROUP BY over a few keys) and uses an
index (`ix_metrics_sla_clocks_status`, `ix_metrics_leads_cohort`), so the page stays fast at 100k+
leads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.tables import contacts, leads, sla_clocks

NOT_MET = ("open", "warned", "breached")


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_clocks(self, limit: int) -> list[dict[str, Any]]:
        """Running clocks, soonest deadline first (breached ones first of all), with the contact."""
        stmt = (
            select(
                sla_clocks,
                contacts.c.email,
                contacts.c.name,
                contacts.c.phone,
                contacts.c.company,
            )
            .outerjoin(contacts, contacts.c.lead_id == sla_clocks.c.lead_id)
            .where(sla_clocks.c.status.in_(NOT_MET))
            .order_by(sla_clocks.c.breach_at)
            .limit(limit)
        )
        return [dict(row) for row in (await self.session.execute(stmt)).mappings()]

    async def clock_counts(self, now: datetime, due_before: datetime) -> dict[str, int]:
        """Open (not breached), due soon, breached, escalated, among running clocks."""
        running = sla_clocks.c.status.in_(NOT_MET)
        stmt = select(
            func.count().filter(sla_clocks.c.status.in_(("open", "warned"))),
            func.count().filter(sla_clocks.c.status == "warned"),
            func.count().filter(
                sla_clocks.c.status.in_(("open", "warned")), sla_clocks.c.breach_at <= due_before
            ),
            func.count().filter(sla_clocks.c.status == "breached"),
            func.count().filter(sla_clocks.c.escalations > 0),
        ).where(running)
        row = (await self.session.execute(stmt)).one()
        return dict(
            zip(
                ("open", "warned", "due_soon", "breached", "escalated"),
                (int(v or 0) for v in row),
                strict=True,
            )
        )

    async def clocks_by_rep(self) -> list[dict[str, Any]]:
        stmt = (
            select(
                sla_clocks.c.team,
                sla_clocks.c.rep_id,
                func.count().filter(sla_clocks.c.status.in_(("open", "warned"))).label("open"),
                func.count().filter(sla_clocks.c.status == "breached").label("breached"),
                func.min(case((sla_clocks.c.status != "breached", sla_clocks.c.breach_at))).label("next_due"),
            )
            .where(sla_clocks.c.status.in_(NOT_MET))
            .group_by(sla_clocks.c.team, sla_clocks.c.rep_id)
        )
        return [dict(row) for row in (await self.session.execute(stmt)).mappings()]

    async def status_totals(self) -> dict[str, int]:
        stmt = select(sla_clocks.c.status, func.count()).group_by(sla_clocks.c.status)
        return {status: int(n) for status, n in await self.session.execute(stmt)}

    async def assigned_by_rep(
        self, start: datetime | None, end: datetime | None
    ) -> list[tuple[str, str, int]]:
        """(team, rep, leads) for leads captured in the window that have an owner."""
        stmt = select(leads.c.team, leads.c.rep_id, func.count()).where(leads.c.rep_id.is_not(None))
        if start is not None:
            stmt = stmt.where(leads.c.captured_at >= start)
        if end is not None:
            stmt = stmt.where(leads.c.captured_at < end)
        stmt = stmt.group_by(leads.c.team, leads.c.rep_id)
        return [(team or "", rep, int(n)) for team, rep, n in await self.session.execute(stmt)]

    async def recent_leads(self, limit: int) -> list[dict[str, Any]]:
        stmt = (
            select(
                leads.c.lead_id,
                leads.c.source,
                leads.c.captured_at,
                leads.c.rep_id,
                leads.c.furthest_rank,
                contacts.c.email,
                contacts.c.name,
            )
            .outerjoin(contacts, contacts.c.lead_id == leads.c.lead_id)
            .where(leads.c.captured_at.is_not(None))
            .order_by(leads.c.captured_at.desc())
            .limit(limit)
        )
        return [dict(row) for row in (await self.session.execute(stmt)).mappings()]

    async def contacts_of(self, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not lead_ids:
            return {}
        stmt = select(contacts).where(contacts.c.lead_id.in_(list(lead_ids)))
        return {row["lead_id"]: dict(row) for row in (await self.session.execute(stmt)).mappings()}
