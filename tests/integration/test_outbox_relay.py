"""The outbox relay on the real broker and databases: a poison row is parked, never a stall."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.router.tables import outbox
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.db.outbox import add_events
from shared.kafka import EventProducer, ensure_topics
from shared.kafka.embedded import free_port
from shared.observability import OUTBOX_PARKED
from shared.outbox_relay import OutboxRelay
from tests.helpers.kafka_tools import read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.db]

TOO_BIG = b"x" * (2 * 1024 * 1024)  # over the producer's 1 MiB request limit: the broker can never take it


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = create_engine(database_url)
    await migrate_service(engine, "router")
    yield create_session_factory(engine)
    await engine.dispose()


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[bool, int, bool, str | None]]:
    async with sessions() as s:
        rows = (await s.execute(select(outbox))).all()
    return {
        r.event_id: (r.published_at is not None, r.attempts, r.parked_at is not None, r.last_error)
        for r in rows
    }


async def test_a_poison_row_is_parked_and_the_rows_behind_it_go_out(
    broker: object, sessions: async_sessionmaker[AsyncSession], topic_prefix: str
) -> None:
    bootstrap = broker.bootstrap  # type: ignore[attr-defined]
    topic = f"{topic_prefix}handoffs"
    await ensure_topics(bootstrap, [topic], partitions=1)
    async with sessions() as s, s.begin():
        await add_events(
            s,
            outbox,
            [
                ("e1", topic, "lead-1", b'{"n":1}'),
                ("poison", topic, "lead-2", TOO_BIG),
                ("e3", topic, "lead-3", b'{"n":3}'),
            ],
        )
    producer = EventProducer(bootstrap, client_id="relay-test")
    relay = OutboxRelay(sessions, outbox, producer, max_attempts=3, max_lag_s=3600)
    parked_before = OUTBOX_PARKED.labels("router_outbox")._value.get()
    try:
        for _ in range(3):
            await relay.publish_pending()
    finally:
        await producer.stop()
    rows = await _rows(sessions)
    assert rows["e1"][:3] == (True, 0, False)
    assert rows["e3"][:3] == (True, 0, False)
    published, attempts, parked, error = rows["poison"]
    assert (published, attempts, parked) == (False, 3, True)
    assert error is not None and "MessageSizeTooLarge" in error
    assert OUTBOX_PARKED.labels("router_outbox")._value.get() == parked_before + 1
    values = [r.value for r in await read_topic(bootstrap, topic, 2)]
    assert values.count(b'{"n":1}') >= 1 and values.count(b'{"n":3}') >= 1
    assert await relay.publish_pending() == 0  # parked rows are out of the queue
    assert await relay.measure_lag() == 0.0


async def test_broker_down_is_transient_rows_wait_and_nothing_is_parked(
    sessions: async_sessionmaker[AsyncSession], topic_prefix: str
) -> None:
    async with sessions() as s, s.begin():
        await add_events(s, outbox, [("w1", f"{topic_prefix}handoffs", "lead-1", b"{}")])
    producer = EventProducer(f"127.0.0.1:{free_port()}", client_id="relay-test", send_timeout_s=0.5)
    relay = OutboxRelay(sessions, outbox, producer, max_attempts=1, max_lag_s=0.0)
    try:
        with pytest.raises(Exception) as raised:
            await relay.publish_pending()
    finally:
        await producer.stop()
    from shared.outbox_relay import is_transient_publish_error

    assert is_transient_publish_error(raised.value)
    assert (await _rows(sessions))["w1"][:3] == (False, 0, False)
    assert await relay.measure_lag() >= 0.0
    assert relay.healthy() is False  # events waiting longer than allowed: /readyz says so
