"""The SLA board's queries over a backlog (m0005 indexes): the most urgent running clocks in deadline
order with their contacts, met clocks left out, counts and the per-rep summary over every running
clock. SQLite and PostgreSQL (when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.dashboard.repository import DashboardRepository
from services.metrics.tables import contacts, sla_clocks

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
STATUSES = ("open", "warned", "breached", "met")


def _clock(i: int) -> dict[str, Any]:
    status = STATUSES[i % 4]
    # Deadlines shuffled against the ids; met clocks have the earliest deadlines of all.
    minutes = -1000 + i if status == "met" else (i * 37) % 400 - 100
    return {
        "clock_id": f"c{i:04d}",
        "lead_id": f"lead-{i:04d}",
        "policy": "first-touch",
        "target": "first_touch",
        "team": ("amer", "emea")[i % 2],
        "rep_id": f"rep-{i % 3}",
        "status": status,
        "breach_at": NOW + timedelta(minutes=minutes),
        "escalations": i % 2,
        "updated_at": NOW,
    }


async def test_the_board_reads_the_most_urgent_running_clocks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clocks = [_clock(i) for i in range(400)]
    async with sessions() as s, s.begin():
        await s.execute(insert(sla_clocks), clocks)
        await s.execute(insert(contacts), [{"lead_id": "lead-0001", "email": "a@example.com"}])
    running = sorted(
        (c for c in clocks if c["status"] != "met"), key=lambda c: (c["breach_at"], c["clock_id"])
    )
    async with sessions() as s:
        repo = DashboardRepository(s)
        urgent = await repo.open_clocks(7)
        counts = await repo.clock_counts(NOW, NOW + timedelta(minutes=15))
        by_rep = await repo.clocks_by_rep()
    assert [c["breach_at"] for c in urgent] == [c["breach_at"] for c in running[:7]]
    assert {c["status"] for c in urgent} <= {"open", "warned", "breached"}
    first = next(c for c in await _all(sessions) if c["clock_id"] == "c0001")
    assert first["email"] == "a@example.com"
    not_breached = [c for c in running if c["status"] != "breached"]
    assert counts == {
        "open": len(not_breached),
        "warned": sum(1 for c in running if c["status"] == "warned"),
        "due_soon": sum(1 for c in not_breached if c["breach_at"] <= NOW + timedelta(minutes=15)),
        "breached": sum(1 for c in running if c["status"] == "breached"),
        "escalated": sum(1 for c in running if c["escalations"]),
        "paused": 0,
    }
    assert sum(r["open"] + r["breached"] for r in by_rep) == len(running)


async def _all(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as s:
        return await DashboardRepository(s).open_clocks(400)
