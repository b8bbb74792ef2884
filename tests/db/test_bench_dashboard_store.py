"""bench/dashboard.py's store: the seed leads through the live projector, every per-lead table
grown by copies under new ids, and a backlog of running SLA clocks for the board to rank."""

from __future__ import annotations

import pytest
from rich.console import Console
from sqlalchemy import func, select

from bench.dashboard import load_store
from services.metrics.tables import contacts, events, lead_stages, leads, sla_clocks
from shared.db import create_engine

pytestmark = pytest.mark.db


async def test_the_store_is_the_seed_copied_with_a_live_backlog(database_url: str) -> None:
    lead_id = await load_store(database_url, 150, 450, Console(quiet=True))
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:

            async def count(table: object, *where: object) -> int:
                stmt = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
                return int((await conn.execute(stmt)).scalar_one())

            assert await count(leads) == 450
            assert await count(leads, leads.c.lead_id.like("%.c2")) == 150
            assert await count(contacts) == 450
            assert await count(lead_stages) == 3 * await count(
                lead_stages, lead_stages.c.lead_id.not_like("%.c%")
            )
            assert await count(events) == 3 * await count(events, events.c.lead_id.not_like("%.c%"))
            running = await count(sla_clocks, sla_clocks.c.status.in_(("open", "warned", "breached")))
            assert 0 < running <= await count(sla_clocks)
            assert await count(events, events.c.lead_id == lead_id) > 0
    finally:
        await engine.dispose()
