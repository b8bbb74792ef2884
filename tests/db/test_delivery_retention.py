"""Retention on an injectable clock: delivered messages and their attempts are purged once older
than `retention_days`, not a day sooner; dead letters and pending messages stay (dead ones until
purged by hand); a lead-cache row goes once nothing pending or dead still needs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.delivery.clock import ManualClock
from services.delivery.devreceiver import Receiver, Reply
from services.delivery.operations import purge_dead
from services.delivery.repository import DeliveryRepository
from services.delivery.retention import purge_expired, retention_loop
from services.delivery.tables import attempts
from tests.integration.test_delivery_support import (
    SECRET,
    assigned,
    captured,
    config_with,
    deliverer,
    endpoint,
)

pytestmark = pytest.mark.db
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = 86_400.0


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DELIVERY_SECRET", SECRET)


async def test_delivered_rows_go_after_the_retention_dead_letters_stay(database_url: str) -> None:
    receiver = Receiver(lambda r: Reply(200 if r.path == "/ok" else 500))
    url = await receiver.start()
    config = config_with(
        deliveries=[
            endpoint("crm", f"{url}/ok"),
            endpoint("broken", f"{url}/fail", schedule_s=[0]),  # one try, then dead
            endpoint("later", f"{url}/fail", schedule_s=[0, 40 * DAY]),  # its retry is 40 days out
        ]
    )
    clock = ManualClock(START)
    try:
        async with deliverer(database_url, config, clock) as d:
            await d.feed(captured("lead-1"), assigned("lead-1"), assigned("lead-2"), captured("lead-3"))
            await d.dispatcher.drain()
            before = await _state(d.sessions)
            clock.advance(30 * DAY)  # exactly the retention: not older than it yet
            assert await purge_expired(d.sessions, clock.now(), retention_days=30) == 0
            assert await _state(d.sessions) == before, "purged before the retention"
            clock.advance(1)
            purged = await purge_expired(d.sessions, clock.now(), retention_days=30)
            after = await _state(d.sessions)
            assert await purge_dead(d.sessions, target="webhook:broken") == 2
            purged_by_hand = await _state(d.sessions)
    finally:
        await receiver.stop()
    assert before == ({"delivered": 2, "dead": 2, "pending": 2}, 6, {"lead-1", "lead-3"})
    assert purged == 2
    # Delivered and their attempts gone; dead and pending kept; lead-3's cache row (nothing left
    # that needs it) gone, lead-1's kept (its dead letter may be replayed as a notification).
    assert after == ({"dead": 2, "pending": 2}, 4, {"lead-1"})
    assert purged_by_hand == ({"pending": 2}, 2, {"lead-1"})


async def test_the_loop_purges_at_start_and_stops(database_url: str) -> None:
    receiver = Receiver()
    url = await receiver.start()
    clock = ManualClock(START)
    stop = asyncio.Event()
    try:
        async with deliverer(database_url, config_with(deliveries=[endpoint("crm", url)]), clock) as d:
            await d.feed(assigned("lead-1"))
            await d.dispatcher.drain()
            clock.advance(8 * DAY)
            loop = asyncio.create_task(retention_loop(d.sessions, clock, 7, 3600, stop))
            async with asyncio.timeout(10):
                while (await _state(d.sessions))[0]:
                    await asyncio.sleep(0.02)
            stop.set()
            await asyncio.wait_for(loop, 5)
    finally:
        await receiver.stop()


async def _state(sessions: object) -> tuple[dict[str, int], int, set[str]]:
    async with sessions() as session:  # type: ignore[operator]
        repo = DeliveryRepository(session)
        counts = await repo.counts()
        tries = (await session.execute(select(func.count()).select_from(attempts))).scalar_one()
        cached = {lead for lead in ("lead-1", "lead-2", "lead-3") if await repo.lead(lead) is not None}
    return counts, int(tries), cached
