"""The append-only delivery ledger (i0007): rows copied by the migration, repeats found after a
restart through the time index, a ledger that could not load at start loading later, and memory
purged with the rows. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Connection, String, column, func, insert, select, table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ingest.ledger import DeliveryLedger
from services.ingest.repository import DeliveryKey, DeliveryRepository, RememberedDelivery
from services.ingest.tables import deliveries
from shared.db import create_engine, create_session_factory
from shared.db.migrate import alembic_config
from shared.db.tables import UtcDateTime

pytestmark = pytest.mark.db

NOW = datetime.now(UTC)


def remembered(event_id: str, at: datetime = NOW, body_hash: str = "h" * 64) -> RememberedDelivery:
    return RememberedDelivery(body_hash, event_id, f"lead-{event_id}", at)


def _alembic(revision: str, down: bool = False) -> Callable[[Connection], None]:
    cfg = alembic_config("services.ingest", "ingest_alembic_version")

    def run(sync_conn: Connection) -> None:
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)

    return run


async def test_the_migration_copies_the_keyed_rows_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    # ingest_idempotency as i0002-i0006 left it: one row per (source, scope, delivery_key).
    before = table(
        "ingest_idempotency",
        *(column(name, String()) for name in ("source", "scope", "delivery_key", "body_hash")),
        *(column(name, String()) for name in ("event_id", "lead_id")),
        column("created_at", UtcDateTime()),
    )
    rows = [
        {"source": "webinar", "scope": "lead", "delivery_key": f"msg_{i}", "body_hash": f"{i:064d}"}
        | {"event_id": f"e{i}", "lead_id": f"l{i}", "created_at": NOW - timedelta(minutes=i)}
        for i in range(5)
    ]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_alembic("i0006"))
            await conn.execute(insert(before), rows)
        async with engine.begin() as conn:
            await conn.run_sync(_alembic("head"))
        sessions = create_session_factory(engine)
        restarted = DeliveryLedger(sessions, timedelta(hours=72))
        assert await restarted.load() == 5
        found = await restarted.find(DeliveryKey("webinar", "lead", "msg_3"))
        assert found is not None and (found.event_id, found.body_hash) == ("e3", f"{3:064d}")
        # Copied oldest first, so ids follow time: a later row of the same key never wins.
        async with engine.connect() as conn:
            order = (
                await conn.execute(select(deliveries.c.delivery_key).order_by(deliveries.c.id))
            ).scalars()
            assert list(order) == [f"msg_{i}" for i in reversed(range(5))]
        async with sessions() as s, s.begin():  # a second instance recorded msg_0 too
            await DeliveryRepository(s).remember_many(
                [(DeliveryKey("webinar", "lead", "msg_0"), remembered("x"))]
            )
        async with engine.begin() as conn:
            await conn.run_sync(_alembic("i0006", down=True))
        async with engine.connect() as conn:
            back = {
                r.delivery_key: r.event_id
                for r in await conn.execute(select(before.c.delivery_key, before.c.event_id))
            }
        assert back == {f"msg_{i}": f"e{i}" for i in range(5)}  # one row a key, the first recorded
    finally:
        await engine.dispose()


async def test_a_repeat_is_found_after_a_restart_among_many_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The lookup reads the time index near the second the ledger holds, then compares keys."""
    first = DeliveryLedger(sessions, timedelta(hours=72))
    await first.load()
    keys = [DeliveryKey("webinar", "lead", f"msg_{i}") for i in range(300)]
    for i, key in enumerate(keys):
        await first.remember(key, remembered(f"e{i}", NOW - timedelta(seconds=i * 7)))
    other_scope = DeliveryKey("webinar", "activity", "msg_7")
    restarted = DeliveryLedger(sessions, timedelta(hours=72), cache_size=10)
    assert await restarted.load() == 300
    for i in (0, 7, 150, 299):
        found = await restarted.find(keys[i])
        assert found is not None and found.event_id == f"e{i}"
        assert abs((found.created_at - (NOW - timedelta(seconds=i * 7))).total_seconds()) < 1e-3
    assert await restarted.find(other_scope) is None


async def test_an_expired_acceptance_is_not_a_repeat(sessions: async_sessionmaker[AsyncSession]) -> None:
    ledger = DeliveryLedger(sessions, timedelta(hours=1))
    await ledger.load()
    key = DeliveryKey("webinar", "lead", "old")
    await ledger.remember(key, remembered("e-old", NOW - timedelta(hours=2)))
    assert await ledger.find(key) is None  # past the span: the sender stopped retrying it
    await ledger.remember(key, remembered("e-new"))  # accepted anew
    found = await ledger.find(key)
    assert found is not None and found.event_id == "e-new"


async def test_purge_forgets_rows_and_memory(sessions: async_sessionmaker[AsyncSession]) -> None:
    ledger = DeliveryLedger(sessions, timedelta(hours=1))
    await ledger.load()
    old, fresh = DeliveryKey("api", "lead", "old"), DeliveryKey("api", "lead", "fresh")
    await ledger.remember(old, remembered("e1", NOW - timedelta(hours=3)))
    await ledger.remember(fresh, remembered("e2"))
    assert len(ledger._seen) == 2
    assert await ledger.purge() == 1
    assert len(ledger._seen) == 1
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(deliveries))).scalar_one() == 1


async def test_a_ledger_that_could_not_load_loads_on_a_later_lookup(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    key = DeliveryKey("webinar", "lead", "before-restart")
    first = DeliveryLedger(sessions, timedelta(hours=72))
    await first.load()
    await first.remember(key, remembered("e1"))

    down = DeliveryLedger(
        create_session_factory(create_engine("sqlite+aiosqlite:////nonexistent/dir/x.db")), timedelta(hours=1)
    )
    assert await down.find(key) is None  # the database is unreachable: cannot tell, so "not seen"

    late = DeliveryLedger(sessions, timedelta(hours=72))
    late._next_load = float("inf")  # as after a failed load at start, before the retry is due
    assert await late.find(key) is None and not late._loaded
    late._next_load = 0.0  # the retry is due (LOAD_RETRY_S after the failed one)
    found = await late.find(key)
    assert late._loaded and found is not None and found.event_id == "e1"
