"""Ingest deliveries and the shared outbox/inbox tables on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.repository import DeliveryRepository
from services.router.tables import outbox
from shared.db.outbox import add_events, lock_pending, mark_published

pytestmark = pytest.mark.db


async def test_delivery_is_remembered_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        repo = DeliveryRepository(s)
        assert await repo.find("api", "k1") is None
        await repo.remember("api", "k1", "evt-1", "lead-1")
        await repo.remember("api", "k1", "evt-other", "lead-other")  # a racing duplicate keeps the first
    async with sessions() as s:
        assert await DeliveryRepository(s).find("api", "k1") == ("evt-1", "lead-1")
        assert await DeliveryRepository(s).find("other-source", "k1") is None


async def test_outbox_hands_out_rows_in_order_until_marked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await add_events(s, outbox, [(f"e{i}", "topic", f"lead-{i}", f"v{i}".encode()) for i in range(5)])
    async with sessions() as s, s.begin():
        first = await lock_pending(s, outbox, 3)
        assert [r.event_id for r in first] == ["e0", "e1", "e2"]
        assert first[0].value == b"v0" and first[0].key == "lead-0"
        await mark_published(s, outbox, [r.id for r in first])
    async with sessions() as s, s.begin():
        rest = await lock_pending(s, outbox, 10)
    assert [r.event_id for r in rest] == ["e3", "e4"]


async def test_utc_datetimes_round_trip(sessions: async_sessionmaker[AsyncSession]) -> None:
    from sqlalchemy import select

    from services.ingest.tables import deliveries

    async with sessions() as s, s.begin():
        await DeliveryRepository(s).remember("api", "tz", "e", "l")
    async with sessions() as s:
        created = (await s.execute(select(deliveries.c.created_at))).scalar_one()
    assert created.tzinfo is not None
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
