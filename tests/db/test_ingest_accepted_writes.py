"""The after-ack batch (journal, email index, delivery ledger) in one transaction, on both databases;
on a SQLite file through the writer thread, whose rows must read back exactly as the session's."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.ingest.journal import Journal
from services.ingest.ledger import DeliveryLedger
from services.ingest.repository import (
    AcceptedRow,
    DeliveryKey,
    DeliveryRepository,
    JournalRepository,
    LeadIndexRepository,
    RememberedDelivery,
    SessionAcceptedRepository,
)
from services.ingest.sqlite_repository import CHECKPOINT_EVERY_S, SqliteAcceptedRepository, sqlite_file
from shared.db import create_engine, create_session_factory
from shared.db.migrate import migrate_service
from shared.kafka.producer import OutgoingMessage

pytestmark = pytest.mark.db

AT = datetime.now(UTC).replace(microsecond=250_000) - timedelta(days=5)  # past the retry span
LONG_AGO = AT - timedelta(days=30)


def _rows() -> list[AcceptedRow]:
    key = DeliveryKey("webinar", "lead", "msg_1")
    delivery = (key, RememberedDelivery("h" * 64, "evt-2", "lead-2", AT))
    return [
        ("evt-1", OutgoingMessage("leads", b"lead-1", b'{"id":"evt-1"}'), ("e" * 64, "lead-1"), None),
        (
            "evt-2",
            OutgoingMessage("leads", b"lead-2", b'{"id":"evt-2"}'),
            ("f" * 64, "lead-2"),
            delivery,
        ),
        ("evt-3", OutgoingMessage("leads", None, b"\x00\xff"), None, None),  # e.g. an erasure event
        ("evt-2", None, ("f" * 64, "lead-2"), delivery),  # the same delivery twice in a batch
    ]


def _store(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> object:
    path = sqlite_file(engine.url)
    return SqliteAcceptedRepository(path) if path else SessionAcceptedRepository(sessions)


async def _read_back(sessions: async_sessionmaker[AsyncSession]) -> tuple[object, ...]:
    async with sessions() as s:
        journaled = await JournalRepository(s).since(LONG_AGO, 0, 100)
        index = await LeadIndexRepository(s).lead_ids("f" * 64)
        found = await DeliveryRepository(s).find_many([DeliveryKey("webinar", "lead", "msg_1")], LONG_AGO)
    return (
        [(event_id, m.topic, m.key, m.value) for _, event_id, m in journaled],
        index,
        {k.key: (r.event_id, r.lead_id, r.created_at) for k, r in found.items()},
    )


async def test_one_batch_writes_journal_index_and_ledger(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    store = _store(engine, sessions)
    journal = Journal(sessions, timedelta(hours=24), store)  # type: ignore[arg-type]
    await store.write(_rows(), AT)  # type: ignore[attr-defined]
    journaled, index, found = await _read_back(sessions)
    assert journaled == [
        ("evt-1", "leads", b"lead-1", b'{"id":"evt-1"}'),
        ("evt-2", "leads", b"lead-2", b'{"id":"evt-2"}'),
        ("evt-3", "leads", None, b"\x00\xff"),
    ]
    assert index == ["lead-2"]
    assert found == {"msg_1": ("evt-2", "lead-2", AT)}
    # What the ledger loads at start and the journal purges by: the stored times compare right.
    ledger = DeliveryLedger(sessions, timedelta(hours=72))
    assert await ledger.load() == 0  # AT is in the past, beyond the retry span from now
    async with sessions() as s:
        assert len(await DeliveryRepository(s).keys_since(LONG_AGO)) == 1
    assert await journal.purge() == 3
    await journal.close()


async def test_the_sqlite_writer_stores_what_the_session_stores(tmp_path: Path) -> None:
    """Same rows through both paths into two SQLite files: read back identically."""
    results = []
    for name, fast in (("session.db", False), ("writer.db", True)):
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / name}")
        await migrate_service(engine, "ingest")
        sessions = create_session_factory(engine)
        store = (
            SqliteAcceptedRepository(str(tmp_path / name)) if fast else SessionAcceptedRepository(sessions)
        )
        await store.write(_rows(), AT)
        results.append(await _read_back(sessions))
        if store is not None:
            await store.close()
        await engine.dispose()
    assert results[0] == results[1]


async def test_a_failed_sqlite_batch_is_a_database_error_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ingest.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate_service(engine, "ingest")
    store = SqliteAcceptedRepository(str(path))
    broken = [*_rows(), (None, OutgoingMessage("leads", None, b"{}"), None, None)]  # event_id NOT NULL
    with pytest.raises(SQLAlchemyError):  # what the service treats as "database down": still a 202
        await store.write(broken, AT)  # type: ignore[arg-type]
    sessions = create_session_factory(engine)
    assert await _read_back(sessions) == ([], [], {})  # rolled back as a whole
    await store.write(_rows(), AT)  # the writer carries on
    assert len((await _read_back(sessions))[0]) == 3
    await store.close()
    await engine.dispose()


def test_in_memory_and_server_databases_keep_the_session_path() -> None:
    assert (
        sqlite_file(make_url("sqlite+aiosqlite:////var/lib/leadrelay/ingest.db"))
        == "/var/lib/leadrelay/ingest.db"
    )
    assert sqlite_file(make_url("sqlite+aiosqlite:///:memory:")) is None
    assert sqlite_file(make_url("sqlite+aiosqlite://")) is None
    assert sqlite_file(make_url("sqlite+aiosqlite:///file:x?mode=memory&cache=shared&uri=true")) is None
    assert sqlite_file(make_url("postgresql+asyncpg://u:p@db/leadrelay")) is None


async def test_the_sqlite_writer_leaves_checkpoints_to_a_thread_of_its_own(tmp_path: Path) -> None:
    """The WAL is copied into the database file while the writer goes on, well before SQLite's own
    automatic checkpoint (1,000 pages by default, which ran inside a batch's COMMIT)."""
    path = tmp_path / "ingest.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate_service(engine, "ingest")
    await engine.dispose()  # the last connection out checkpoints: the file holds everything so far
    before = path.stat().st_size
    store = SqliteAcceptedRepository(str(path))
    value = b"x" * 2000
    batches = [
        [(f"evt-{b}-{n}", OutgoingMessage("leads", b"lead", value), None, None) for n in range(20)]
        for b in range(20)
    ]  # ~800 KiB: ~200 pages of WAL, far below the writer's own checkpoint mark
    for batch in batches[:-1]:
        await store.write(batch, AT)
    await asyncio.sleep(CHECKPOINT_EVERY_S + 0.1)  # the next batch finds a checkpoint due
    await store.write(batches[-1], AT)
    deadline = time.monotonic() + 10
    while path.stat().st_size < before + 20 * 20 * len(value) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert path.stat().st_size >= before + 20 * 20 * len(value), "the WAL was not checkpointed"
    await store.close()
