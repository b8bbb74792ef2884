"""Ingest deliveries and the shared outbox/inbox tables on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.ingest.ledger import DeliveryLedger
from services.ingest.repository import DeliveryKey, DeliveryRepository, RememberedDelivery
from services.router.tables import outbox
from shared.db import create_engine, create_session_factory
from shared.db.outbox import add_events, lock_pending, mark_published

pytestmark = pytest.mark.db


NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=30)


def remembered(event_id: str, lead_id: str, at: datetime = NOW) -> RememberedDelivery:
    return RememberedDelivery("h" * 64, event_id, lead_id, at)


async def test_delivery_is_remembered_once_per_source_and_scope(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    key = DeliveryKey("api", "lead", "k1")
    async with sessions() as s, s.begin():
        repo = DeliveryRepository(s)
        assert await repo.find_many([key], LONG_AGO) == {}
        await repo.remember_many([(key, remembered("evt-1", "lead-1"))])
        await repo.remember_many([(key, remembered("evt-other", "lead-other"))])  # a racing duplicate
    other_scope, other_source = DeliveryKey("api", "activity", "k1"), DeliveryKey("web", "lead", "k1")
    async with sessions() as s:
        found = await DeliveryRepository(s).find_many([key, other_scope, other_source], LONG_AGO)
    assert {k: (r.event_id, r.lead_id) for k, r in found.items()} == {key: ("evt-1", "lead-1")}


async def test_deliveries_past_the_retry_span_are_forgotten(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    old, fresh = DeliveryKey("api", "lead", "old"), DeliveryKey("api", "lead", "fresh")
    async with sessions() as s, s.begin():
        await DeliveryRepository(s).remember_many(
            [(old, remembered("e1", "l1", LONG_AGO)), (fresh, remembered("e2", "l2"))]
        )
    cutoff = NOW - timedelta(days=3)
    async with sessions() as s:
        assert set(await DeliveryRepository(s).find_many([old, fresh], cutoff)) == {fresh}
    async with sessions() as s, s.begin():
        assert await DeliveryRepository(s).forget_before(cutoff) == 1


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
        await DeliveryRepository(s).remember_many(
            [(DeliveryKey("api", "lead", "tz"), remembered("e", "l", datetime.now(UTC)))]
        )
    async with sessions() as s:
        created = (await s.execute(select(deliveries.c.created_at))).scalar_one()
    assert created.tzinfo is not None
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


async def test_ledger_answers_new_keys_from_memory_and_repeats_after_a_restart(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ledger = DeliveryLedger(sessions, timedelta(hours=72))
    assert await ledger.load() == 0
    key = DeliveryKey("web", "lead", "evt-1")
    await ledger.remember(key, remembered("e1", "l1"))
    restarted = DeliveryLedger(sessions, timedelta(hours=72))
    assert await restarted.load() == 1
    found = await restarted.find(key)  # fingerprinted at load, read from the database once
    assert found is not None and (found.event_id, found.lead_id) == ("e1", "l1")
    await engine.dispose()
    broken = DeliveryLedger(
        create_session_factory(create_engine("sqlite+aiosqlite:////nonexistent/dir/x.db")), timedelta(hours=1)
    )
    broken._loaded = True  # as after a load: a never-seen key must not touch the (unreachable) database
    assert await broken.find(DeliveryKey("web", "lead", "new")) is None
