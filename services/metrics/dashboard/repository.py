"""The dashboard's SQL. Every query is bounded (LIMIT, or a GROUP BY over a few keys) and uses an
index: the running clocks' deadline (partial) for the board, a covering index for its counts and
per-rep summary (m0005), the cohort index for leads. bench/dashboard.py measures it at 100k leads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, case, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.tables import contacts, leads, sla_clocks

NOT_MET = ("open", "warned", "breached")
# Rendered as literals, not bound parameters: the planners use the partial index on running clocks
# (m0005) only when the query's condition visibly implies the index's (a `?` could be anything).
RUNNING = sla_clocks.c.status.in_([literal_column(f"'{status}'") for status in NOT_MET])


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_clocks(self, limit: int) -> list[dict[str, Any]]:
        """Running clocks, soonest deadline first (breached ones first of all), with the contact."""
        urgent = await self._most_urgent(limit)
        stmt = (
            select(
                sla_clocks,
                contacts.c.email,
                contacts.c.name,
                contacts.c.phone,
                contacts.c.company,
            )
            .outerjoin(contacts, contacts.c.lead_id == sla_clocks.c.lead_id)
            .where(sla_clocks.c.clock_id.in_(urgent))
        )
        rows = {row["clock_id"]: dict(row) for row in (await self.session.execute(stmt)).mappings()}
        return [rows[clock_id] for clock_id in urgent if clock_id in rows]

    async def _most_urgent(self, limit: int) -> list[str]:
        """The ids of the `limit` running clocks due first, read in the running-deadline index's order
        (m0005). SQLite without ANALYZE statistics would rather search the status index and sort
        every running clock, so it is told which index to use."""
        stmt: Executable
        if self.session.get_bind().dialect.name == "sqlite":
            stmt = text(
                "SELECT clock_id FROM metrics_sla_clocks INDEXED BY ix_metrics_sla_clocks_running_due "
                "WHERE status IN ('open', 'warned', 'breached') ORDER BY breach_at LIMIT :limit"
            ).bindparams(limit=limit)
        else:
            stmt = select(sla_clocks.c.clock_id).where(RUNNING).order_by(sla_clocks.c.breach_at).limit(limit)
        return [str(r[0]) for r in await self.session.execute(stmt)]

    async def clock_counts(self, now: datetime, due_before: datetime) -> dict[str, int]:
        """Open (not breached), due soon, breached, escalated among running clocks; and paused ones."""
        stmt = select(
            func.count().filter(sla_clocks.c.status.in_(("open", "warned"))),
            func.count().filter(sla_clocks.c.status == "warned"),
            func.count().filter(
                sla_clocks.c.status.in_(("open", "warned")), sla_clocks.c.breach_at <= due_before
            ),
            func.count().filter(sla_clocks.c.status == "breached"),
            func.count().filter(sla_clocks.c.escalations > 0),
        ).where(RUNNING)
        row = (await self.session.execute(stmt)).one()
        counts = dict(
            zip(
                ("open", "warned", "due_soon", "breached", "escalated"),
                (int(v or 0) for v in row),
                strict=True,
            )
        )
        # Paused clocks are not running (never due while paused): counted apart.
        paused = select(func.count()).where(sla_clocks.c.status == "paused")
        counts["paused"] = int((await self.session.execute(paused)).scalar_one())
        return counts

    async def clocks_by_rep(self) -> list[dict[str, Any]]:
        stmt = (
            select(
                sla_clocks.c.team,
                sla_clocks.c.rep_id,
                func.count().filter(sla_clocks.c.status.in_(("open", "warned"))).label("open"),
                func.count().filter(sla_clocks.c.status == "breached").label("breached"),
                func.min(case((sla_clocks.c.status != "breached", sla_clocks.c.breach_at))).label("next_due"),
            )
            .where(RUNNING)
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
