"""A test handler with a real, deduplicated side effect: one row per processed event id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, create_session_factory
from shared.db.inbox import claim_event
from shared.db.tables import BigId, inbox_table
from shared.kafka import Delivery

metadata = MetaData()
inbox = inbox_table(metadata, "t_inbox")
effects = Table(
    "t_effects",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=False),
    Column("value", String(500), nullable=False),
)

AfterCommit = Callable[[Delivery], Awaitable[None]]


async def open_db(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine, create_session_factory(engine)


def event_id_of(delivery: Delivery) -> str:
    return f"{delivery.topic}/{delivery.partition}/{delivery.offset}"


def effect_handler(
    sessions: async_sessionmaker[AsyncSession],
    after_commit: AfterCommit | None = None,
) -> Callable[[Delivery], Awaitable[None]]:
    async def handle(delivery: Delivery) -> None:
        async with sessions() as session, session.begin():
            if await claim_event(session, inbox, event_id_of(delivery)):
                await session.execute(
                    effects.insert().values(
                        event_id=event_id_of(delivery), value=(delivery.value or b"").decode(errors="replace")
                    )
                )
        if after_commit is not None:
            await after_commit(delivery)

    return handle


async def count_effects(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(effects))).scalar_one())
