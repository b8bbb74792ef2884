"""A consumer service's process, built one way: engine, sessions, dead-letter producer, consumer
loop, readiness, and the web app whose lifespan migrates, starts the loops and stops them.

The router and the metrics service differ only in their handler, their topics, the extra
background loops they run (the router's outbox relay) and their HTTP routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, create_session_factory
from shared.http_ops import database_ready, install_error_handlers, ops_router
from shared.kafka import ConsumerLoop, EventProducer
from shared.kafka.records import Handler
from shared.runtime import BackgroundLoops, Loop, prepare_service, service_consumer, service_producer
from shared.settings import CommonSettings


class ConsumerSettings(Protocol):
    @property
    def common(self) -> CommonSettings: ...
    @property
    def effective_database_url(self) -> str: ...
    @property
    def group_id(self) -> str: ...
    @property
    def max_attempts(self) -> int: ...


@dataclass
class ServiceParts:
    """What every consumer service holds before its handler is built."""

    name: str
    common: CommonSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    producer: EventProducer  # dead letters, and whatever else the service publishes


def service_parts(name: str, settings: ConsumerSettings) -> ServiceParts:
    engine = create_engine(settings.effective_database_url)
    producer = service_producer(settings.common, f"leadrelay-{name}")
    return ServiceParts(name, settings.common, engine, create_session_factory(engine), producer)


@dataclass
class ConsumerService:
    parts: ServiceParts
    consumer: ConsumerLoop
    loops: dict[str, Loop] = field(default_factory=dict)
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)
    # Awaited at start, after migrations and before the loops (e.g. refill a broker that forgot).
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.parts.name

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.parts.sessions

    async def readiness(self) -> dict[str, bool]:
        return {
            "database": await database_ready(self.parts.engine),
            "consumer": self.consumer.making_progress(),
            **{name: check() for name, check in self.checks.items()},
        }


def build_consumer_service(
    parts: ServiceParts, settings: ConsumerSettings, topics: Sequence[str], handler: Handler
) -> ConsumerService:
    consumer = service_consumer(
        parts.common,
        group_id=settings.group_id,
        topics=list(topics),
        handler=handler,
        dead_letters=parts.producer,
        max_attempts=settings.max_attempts,
    )
    return ConsumerService(parts, consumer)


def consumer_app(service: ConsumerService, *, title: str, routers: Sequence[APIRouter] = ()) -> FastAPI:
    loops = BackgroundLoops()
    parts = service.parts

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await prepare_service(parts.engine, parts.name, parts.common)
        for start_hook in service.on_startup:
            await start_hook()
        loops.start(f"{service.name}-consumer", service.consumer.run)
        for loop_name, loop in service.loops.items():
            loops.start(f"{service.name}-{loop_name}", loop)
        try:
            yield
        finally:
            for stop_hook in service.on_shutdown:
                stop_hook()
            await loops.shutdown()
            await parts.producer.stop()
            await parts.engine.dispose()

    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan)
    app.state.sessions = service.sessions
    install_error_handlers(app)
    app.include_router(ops_router(service.readiness))
    for router in routers:
        app.include_router(router)
    return app
